using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>The engines the <c>bpf</c> verbs can run a raw (conformance-convention) program on.</summary>
internal static class BpfEngine
{
    public const string Interpreter = "interp";

    public static readonly string[] Names = [Interpreter];

    public static void CheckName(string engine)
    {
        if (engine != Interpreter)
            throw new CliUsageException($"unknown or unavailable engine '{engine}' (available: {string.Join(", ", Names)})");
    }

    /// <summary>Loads and runs once; a malformed program throws <see cref="BpfDecodeException"/>.</summary>
    public static BpfRunResult Run(string engine, Instruction[] program, byte[] memory)
    {
        CheckName(engine);
        var interpreter = new BpfInterpreter(program, HelperRegistry.CreateConformance());
        return interpreter.Run(memory);
    }
}
