using System.CommandLine;
using Kernel.Sim.Bench.Report;

namespace Kernel.Sim.Bench.Cli;

/// <summary><c>kernelsim report [--quick] [--out DIR]</c>: the model and the measurements as Markdown and HTML with charts.</summary>
public sealed class ReportVerb : IVerb
{
    public string Parent => string.Empty;

    public Command Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var quick = new Option<bool>("--quick") { Description = "Model only (seconds): skip the native lab and the timings" };
        var output = new Option<string>("--out", "-o") { Description = "Output directory", DefaultValueFactory = _ => "report" };
        var bench = new Option<string>("--bench-results") { Description = "Where BenchmarkDotNet CSV results are read from", DefaultValueFactory = _ => Path.Combine("BenchmarkDotNet.Artifacts", "results") };
        var command = new Command("report", "Write a Markdown and HTML report with PNG and SVG charts (model across profiles; measurements unless --quick)");
        command.Options.Add(quick);
        command.Options.Add(output);
        command.Options.Add(bench);
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(output)!;
            ReportFiles files;
            try
            {
                files = ReportBuilder.Write(new ReportOptions
                {
                    Quick = parse.GetValue(quick),
                    OutputDirectory = directory,
                    BenchmarkResultsDirectory = parse.GetValue(bench)!,
                    Progress = context.Error,
                });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                context.Error.WriteLine($"kernelsim: report: cannot write {directory}: {e.Message}");
                return KernelSimCli.Failure;
            }

            context.Out.WriteLine(files.Markdown);
            context.Out.WriteLine(files.Html);
            foreach (var chart in files.Charts)
            {
                context.Out.WriteLine(Path.Combine(directory, chart + ".png"));
                context.Out.WriteLine(Path.Combine(directory, chart + ".svg"));
            }

            return KernelSimCli.Success;
        });
        return command;
    }
}
