using System.CommandLine;
using Kernel.Sim.Bench.Demos;

namespace Kernel.Sim.Bench.Cli;

/// <summary><c>kernelsim demo list</c> and <c>kernelsim demo NAME [--step] [--quick]</c>: narrated teaching demos.</summary>
public sealed class DemoVerb : IVerb
{
    public string Parent => string.Empty;

    public Command Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var name = new Argument<string>("NAME") { Description = "A demo name, or 'list' to list them" };
        var step = new Option<bool>("--step") { Description = "Wait for Enter between steps" };
        var quick = new Option<bool>("--quick") { Description = "Small counts (a second or two per demo)" };
        var command = new Command("demo", "Narrated teaching demos showing real output of the simulated kernel");
        command.Arguments.Add(name);
        command.Options.Add(step);
        command.Options.Add(quick);
        command.SetAction(parse =>
        {
            var demoName = parse.GetValue(name)!;
            if (demoName == "list")
            {
                var width = DemoCatalog.All.Max(d => d.Name.Length);
                foreach (var d in DemoCatalog.All)
                    context.Out.WriteLine($"{d.Name.PadRight(width)}  {d.Description}");
                return KernelSimCli.Success;
            }

            var demo = DemoCatalog.Find(demoName)
                ?? throw new CliUsageException($"unknown demo '{demoName}' (have: {string.Join(", ", DemoCatalog.All.Select(d => d.Name))})");
            var session = new DemoSession(context.Out, context.In, parse.GetValue(step), parse.GetValue(quick));
            context.Out.WriteLine($"kernelsim demo {demo.Name}: {demo.Description}");
            demo.Run(session);
            return KernelSimCli.Success;
        });
        return command;
    }
}
