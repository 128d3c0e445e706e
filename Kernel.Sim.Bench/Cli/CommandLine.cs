using System.CommandLine;
using BenchmarkDotNet.Running;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// Builds the verb tree and runs it. Exit codes: 0 success, 1 a reported failure, 2 bad usage or input.
/// Each verb group lives in its own file and contributes a <see cref="Command"/> here.
/// </summary>
public static class CommandLine
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadInput = 2;

    public static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("KernelSim: a simulated Linux kernel to see and measure call dispatch and tracing");
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // Everything after `bench` belongs to BenchmarkDotNet's switcher, untouched.
        if (args.Length > 0 && args[0] == "bench")
        {
            BenchmarkSwitcher.FromAssembly(typeof(CommandLine).Assembly).Run(args[1..]);
            return Success;
        }

        var root = Build(stdout, stderr);
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
