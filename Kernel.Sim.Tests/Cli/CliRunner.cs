using Kernel.Sim.Bench.Cli;

namespace Kernel.Sim.Tests.Cli;

/// <summary>Runs the <c>kernelsim</c> command line in-process and captures what it prints.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error)
    {
        /// <summary>Non-empty stdout lines.</summary>
        public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public static Result Run(params string[] args) => RunWithInput(null, args);

    /// <summary>Runs with <paramref name="stdin"/> as standard input (null: none).</summary>
    public static Result RunWithInput(string? stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var input = stdin is null ? null : new StringReader(stdin);
        var code = KernelSimCli.Run(args, stdout, stderr, input);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }
}
