using System.CommandLine;
using BenchmarkDotNet.Running;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// Builds the verb tree and runs it. Exit codes: 0 success, 1 a reported failure, 2 bad usage or input.
/// Verbs are <see cref="IVerb"/> implementations, one file each.
/// </summary>
public static class KernelSimCli
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadInput = 2;

    private static readonly Dictionary<string, string> GroupDescriptions = new()
    {
        ["bpf"] = "eBPF: assemble, disassemble, verify, execute, load objects, run conformance",
    };

    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand("KernelSim: a simulated Linux kernel to see and measure call dispatch and tracing");
        var verbs = typeof(KernelSimCli).Assembly.GetTypes()
            .Where(t => typeof(IVerb).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (IVerb)Activator.CreateInstance(t)!)
            .OrderBy(v => v.Parent, StringComparer.Ordinal);
        var groups = new Dictionary<string, Command>();
        foreach (var verb in verbs)
        {
            var command = verb.Build(context);
            if (verb.Parent.Length == 0)
            {
                root.Subcommands.Add(command);
                continue;
            }

            if (!groups.TryGetValue(verb.Parent, out var group))
            {
                group = new Command(verb.Parent, GroupDescriptions.GetValueOrDefault(verb.Parent, verb.Parent));
                groups.Add(verb.Parent, group);
                root.Subcommands.Add(group);
            }

            group.Subcommands.Add(command);
        }

        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null)
    {
        // Everything after `bench` belongs to BenchmarkDotNet's switcher, untouched.
        if (args.Length > 0 && args[0] == "bench")
        {
            // In-process toolchain: BenchmarkDotNet's out-of-process toolchain looks for a project file named
            // after the assembly (kernelsim.csproj) and cannot find Kernel.Sim.Bench.csproj.
            var benchArgs = args[1..];
            if (!benchArgs.Any(a => a is "--inProcess" or "-i"))
                benchArgs = [.. benchArgs, "--inProcess"];
            BenchmarkSwitcher.FromAssembly(typeof(KernelSimCli).Assembly).Run(benchArgs);
            return Success;
        }

        var root = Build(new CliContext(stdout, stderr, stdin));
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                stderr.WriteLine($"kernelsim: {error.Message}");
            return BadInput;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (CliUsageException e)
        {
            stderr.WriteLine($"kernelsim: {e.Message}");
            return BadInput;
        }
    }
}

/// <summary>Thrown by a verb for bad arguments or unreadable input; the command line exits 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);
