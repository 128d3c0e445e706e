using System.CommandLine;
using System.Globalization;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary><c>kernelsim bpf exec FILE [--mem HEX] [--engine interp|jit] [--repeat N] [--json] [--no-verify] [--syntax conformance|llvm]</c>: runs a program once (or N times, timing each run).</summary>
public sealed class BpfExecVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "a conformance .data file, assembly text (conformance or LLVM syntax), raw bytes (.bin), or a clang BPF object (FILE.o, with --prog)" };
        var mem = new Option<string?>("--mem") { Description = "input memory as hex bytes (overrides a .data file's -- mem)" };
        var engine = new Option<string>("--engine") { Description = "execution engine: interp (checked interpreter) or jit", DefaultValueFactory = _ => BpfEngine.Interpreter };
        var repeat = new Option<int>("--repeat") { Description = "run N times (each on a fresh copy of the input) and print ns per run", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "print {\"r0\": \"0x...\", \"insns_executed\": N}" };
        var noVerify = new Option<bool>("--no-verify") { Description = "skip the verifier (which otherwise refuses a rejected program, as type raw over the input's size, or the object section's type): interp then runs anything under its checks, jit runs the program if the checked interpreter's run of this input is memory-safe" };
        var syntax = BpfSyntaxOption.Create("syntax of an assembly-text FILE: conformance or llvm (default: detect)");
        var command = new Command("exec", "Execute an eBPF program once and print r0");
        command.Arguments.Add(file);
        command.Options.Add(mem);
        command.Options.Add(engine);
        command.Options.Add(repeat);
        command.Options.Add(json);
        command.Options.Add(noVerify);
        command.Options.Add(syntax);
        var objectOptions = BpfExecObject.AddOptions(command);
        command.SetAction(parse =>
        {
            if (BpfExecObject.IsElf(parse.GetValue(file)!))
            {
                BpfEngine.CheckName(parse.GetValue(engine)!);
                if (parse.GetValue(noVerify))
                    throw new CliUsageException("--no-verify: an object's programs load as Linux loads them, through the verifier (with the section's program type)");
                return objectOptions.Run(context, parse, parse.GetValue(file)!, parse.GetValue(engine)!, Math.Max(parse.GetValue(repeat), 1), parse.GetValue(json));
            }

            var input = BpfProgramFile.Load(parse.GetValue(file)!, BpfSyntaxOption.Check(parse.GetValue(syntax)));
            var memHex = parse.GetValue(mem);
            var memory = memHex is null ? input.Memory : BpfProgramFile.ParseHex(memHex, "--mem");
            var engineName = parse.GetValue(engine)!;
            BpfEngine.CheckName(engineName);
            var runs = parse.GetValue(repeat);
            if (runs < 1)
                throw new CliUsageException($"--repeat: {runs} is not a positive number of runs");
            Kernel.Sim.Bpf.Interpreter.BpfRunResult result;
            double nsPerRun;
            try
            {
                var runner = BpfEngine.Load(engineName, input.Program, memory, verify: !parse.GetValue(noVerify));
                (result, nsPerRun) = RunRepeatedly(runner, memory, runs);
            }
            catch (BpfDecodeException e)
            {
                context.Error.WriteLine($"kernelsim: {parse.GetValue(file)}: {e.Message}");
                return KernelSimCli.BadInput;
            }
            catch (BpfRejectedException e)
            {
                context.Error.WriteLine($"kernelsim: {parse.GetValue(file)}: {e.Message}");
                context.Error.Write(e.Log);
                return KernelSimCli.Failure;
            }
            catch (Kernel.Sim.Bpf.Jit.BpfJitException e)
            {
                context.Error.WriteLine($"kernelsim: {parse.GetValue(file)}: {e.Message}");
                return KernelSimCli.Failure;
            }

            if (!result.Succeeded)
            {
                context.Error.WriteLine($"kernelsim: {result.Message}");
                return KernelSimCli.Failure;
            }

            var r0 = "0x" + result.R0.ToString("x", CultureInfo.InvariantCulture);
            var ns = nsPerRun.ToString("0.0", CultureInfo.InvariantCulture);
            // The JIT counts no instructions; its JSON leaves the count out rather than print a false 0.
            var executed = engineName == BpfEngine.Interpreter
                ? $", \"insns_executed\": {result.InstructionsExecuted.ToString(CultureInfo.InvariantCulture)}"
                : "";
            var timing = runs > 1 ? $", \"runs\": {runs.ToString(CultureInfo.InvariantCulture)}, \"ns_per_run\": {ns}" : "";
            if (parse.GetValue(json))
            {
                context.Out.WriteLine($"{{\"r0\": \"{r0}\"{executed}{timing}}}");
            }
            else
            {
                if (runs > 1)
                    context.Out.WriteLine($"{runs.ToString(CultureInfo.InvariantCulture)} runs, {ns} ns per run ({engineName})");
                context.Out.WriteLine(r0);
            }
            return KernelSimCli.Success;
        });
        return command;
    }

    /// <summary>
    /// Runs <paramref name="runs"/> times, each on a fresh copy of the input as BPF_PROG_TEST_RUN gives (the copy is
    /// inside the timing; it is a memcpy of the input). The first run is a warm-up outside the timing when repeating.
    /// </summary>
    private static (Kernel.Sim.Bpf.Interpreter.BpfRunResult Result, double NsPerRun) RunRepeatedly(BpfEngine.IBpfRunner runner, byte[] memory, int runs)
    {
        if (runs == 1)
            return (runner.Run(memory), 0);
        var work = new byte[memory.Length];
        memory.CopyTo(work);
        var result = runner.Run(work);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 0; i < runs; i++)
        {
            memory.CopyTo(work);
            result = runner.Run(work);
        }

        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        work.CopyTo(memory);
        return (result, elapsed.TotalNanoseconds / runs);
    }
}
