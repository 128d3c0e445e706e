using System.CommandLine;
using System.Globalization;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary><c>kernelsim bpf exec FILE [--mem HEX] [--engine interp] [--json] [--no-verify] [--syntax conformance|llvm]</c>: runs a program once.</summary>
public sealed class BpfExecVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "a conformance .data file, assembly text (conformance or LLVM syntax), or raw bytes (.bin)" };
        var mem = new Option<string?>("--mem") { Description = "input memory as hex bytes (overrides a .data file's -- mem)" };
        var engine = new Option<string>("--engine") { Description = "execution engine", DefaultValueFactory = _ => BpfEngine.Interpreter };
        var json = new Option<bool>("--json") { Description = "print {\"r0\": \"0x...\", \"insns_executed\": N}" };
        var noVerify = new Option<bool>("--no-verify") { Description = "skip the verifier (accepted; the verifier is not wired in yet, only decode validation runs)" };
        var syntax = BpfSyntaxOption.Create("syntax of an assembly-text FILE: conformance or llvm (default: detect)");
        var command = new Command("exec", "Execute an eBPF program once and print r0");
        command.Arguments.Add(file);
        command.Options.Add(mem);
        command.Options.Add(engine);
        command.Options.Add(json);
        command.Options.Add(noVerify);
        command.Options.Add(syntax);
        command.SetAction(parse =>
        {
            var input = BpfProgramFile.Load(parse.GetValue(file)!, BpfSyntaxOption.Check(parse.GetValue(syntax)));
            var memHex = parse.GetValue(mem);
            var memory = memHex is null ? input.Memory : BpfProgramFile.ParseHex(memHex, "--mem");
            var engineName = parse.GetValue(engine)!;
            BpfEngine.CheckName(engineName);
            Kernel.Sim.Bpf.Interpreter.BpfRunResult result;
            try
            {
                result = BpfEngine.Run(engineName, input.Program, memory);
            }
            catch (BpfDecodeException e)
            {
                context.Error.WriteLine($"kernelsim: {parse.GetValue(file)}: {e.Message}");
                return KernelSimCli.BadInput;
            }

            if (!result.Succeeded)
            {
                context.Error.WriteLine($"kernelsim: {result.Message}");
                return KernelSimCli.Failure;
            }

            var r0 = "0x" + result.R0.ToString("x", CultureInfo.InvariantCulture);
            context.Out.WriteLine(parse.GetValue(json)
                ? $"{{\"r0\": \"{r0}\", \"insns_executed\": {result.InstructionsExecuted.ToString(CultureInfo.InvariantCulture)}}}"
                : r0);
            return KernelSimCli.Success;
        });
        return command;
    }
}
