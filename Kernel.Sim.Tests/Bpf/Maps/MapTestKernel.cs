using Kernel.Sim.Bpf;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Tests.Bpf.Maps;

/// <summary>A BPF subsystem with maps, and LLVM-syntax programs loaded into it, for map and helper tests.</summary>
internal sealed class MapTestKernel : IDisposable
{
    public MapTestKernel(int cpus = 1) => Bpf = new BpfSubsystem(cpus: cpus);

    public BpfSubsystem Bpf { get; }

    public BpfMapRegistry Maps => Bpf.Maps;

    public BpfMap Create(BpfMapType type, int keySize, int valueSize, int maxEntries, string name = "m") =>
        Maps.Create(new MapDefinition(type, keySize, valueSize, maxEntries, name));

    /// <summary>Assembles <paramref name="asm"/>, replacing <c>{name}</c> with the fd of map <c>name</c>.</summary>
    public BpfInterpreter Load(string asm, ProgramType? type = null, HelperContext? context = null, string name = "") =>
        Bpf.Load(LlvmAssembler.Assemble(asm), type ?? new RawProgramType(), name, context);

    /// <summary>Runs with an 8-byte input; throws on a run error.</summary>
    public static ulong Run(BpfInterpreter program, byte[]? input = null) => program.Run(input ?? new byte[8]).ThrowIfFailed();

    /// <summary>
    /// A caller that tail-calls slot <paramref name="index"/> of prog array <paramref name="progArrayFd"/> with its
    /// context, and returns 1 when the tail call misses and falls through.
    /// </summary>
    public static string TailCaller(int progArrayFd, int index) => $"""
        r6 = r1
        ld_pseudo r2, 1, {progArrayFd}
        r3 = {index}
        call 12
        r0 = 1
        exit
        """;

    public static byte[] U32(uint value) => BitConverter.GetBytes(value);

    public static byte[] U64(ulong value) => BitConverter.GetBytes(value);

    public void Dispose() => Bpf.Dispose();
}
