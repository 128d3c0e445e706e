using System.CommandLine;
using System.Globalization;
using Kernel.Sim.Bpf.Jit;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>
/// <c>kernelsim bpf jit-fuzz [--count N] [--seed S]</c>: differential fuzzing of the JIT against the interpreter
/// over random verifier-checked programs; prints the counts and every divergence, exit 1 on any.
/// </summary>
public sealed class BpfJitFuzzVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var count = new Option<int>("--count") { Description = "programs to generate", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "random seed (a run is reproducible from it)", DefaultValueFactory = _ => 1 };
        var command = new Command("jit-fuzz", "Differential fuzzing: random programs on the JIT and the interpreter must agree on r0 and memory");
        command.Options.Add(count);
        command.Options.Add(seed);
        command.SetAction(parse =>
        {
            var n = parse.GetValue(count);
            if (n < 0)
                throw new CliUsageException($"--count: {n} is negative");
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var report = JitFuzzer.Run(n, parse.GetValue(seed));
            var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            foreach (var (reason, times) in report.RejectionReasons.OrderByDescending(r => r.Value).Take(5))
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rejected {times}x: {reason}"));
            foreach (var divergence in report.Divergences)
                context.Out.WriteLine("DIVERGENCE " + divergence);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{report.Programs} programs ({report.Accepted} verifier-accepted, {report.Rejected} rejected): {report.Agreed} agree, {report.Unsafe} unsafe on the interpreter (not run on the JIT), {report.Diverged} divergences in {seconds:0.0} s"));
            return report.Diverged == 0 ? KernelSimCli.Success : KernelSimCli.Failure;
        });
        return command;
    }
}
