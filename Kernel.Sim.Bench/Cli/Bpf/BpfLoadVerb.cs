using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary><c>kernelsim bpf load FILE.o [--type TYPE] [--json] [--log-level N]</c>: opens a clang BPF object as libbpf does, verifies its programs and lists programs and maps as <c>bpftool prog show</c> / <c>map show</c> do.</summary>
public sealed class BpfLoadVerb : IVerb
{
    public string Parent => "bpf";

    public Command Build(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "an ELF object from clang -target bpf" };
        var type = new Option<string?>("--type") { Description = "force this program type on every program (kprobe, xdp, socket_filter, sched_cls, tracing, raw, ...)" };
        var json = new Option<bool>("--json") { Description = "print {\"programs\": [...], \"maps\": [...]}" };
        var logLevel = new Option<int>("--log-level") { Description = "print the verifier log (1: errors, 2: every instruction)" };
        var command = new Command("load", "Load a BPF ELF object: list its programs (verified) and maps");
        command.Arguments.Add(file);
        command.Options.Add(type);
        command.Options.Add(json);
        command.Options.Add(logLevel);
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            BpfObject obj;
            try
            {
                obj = BpfObject.LoadFile(path, new BpfObjectOptions { ForcedType = parse.GetValue(type) });
            }
            catch (BpfObjectException e)
            {
                context.Error.WriteLine($"kernelsim: {path}: {e.Message}");
                return KernelSimCli.Failure;
            }
            catch (IOException e)
            {
                context.Error.WriteLine($"kernelsim: {path}: {e.Message}");
                return KernelSimCli.BadInput;
            }

            var types = ProgramTypeRegistry.CreateDefault();
            var level = parse.GetValue(logLevel);
            var verdicts = obj.Programs.Select(p => BpfObjectVerifier.Verify(obj, p, types, level)).ToList();
            if (parse.GetValue(json))
                context.Out.WriteLine(ToJson(obj, verdicts));
            else
                PrintText(context, obj, verdicts, level);
            foreach (var w in obj.Warnings)
                context.Error.WriteLine("libbpf: " + w);
            return verdicts.All(v => v.Result is null || v.Result.Accepted) ? KernelSimCli.Success : KernelSimCli.Failure;
        });
        return command;
    }

    private static string Inv(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static void PrintText(CliContext context, BpfObject obj, List<ProgramVerdict> verdicts, int level)
    {
        var gpl = obj.License is "GPL" or "GPL v2" or "GPL and additional rights" or "Dual BSD/GPL" or "Dual MIT/GPL" or "Dual MPL/GPL";
        for (var i = 0; i < verdicts.Count; i++)
        {
            var v = verdicts[i];
            var p = v.Program;
            context.Out.WriteLine($"{Inv(i)}: {p.TypeName}  name {p.Name}  tag {BpfObjectVerifier.Tag(p.Instructions)}{(gpl ? "  gpl" : "")}");
            var mapIds = p.MapReferences.Select(r => r.MapIndex).Distinct().Order().ToList();
            context.Out.WriteLine($"\tsection {p.Section}  insns {Inv(p.Instructions.Count)}  xlated {Inv(p.Instructions.Count * 8)}B" + (mapIds.Count > 0 ? "  map_ids " + string.Join(",", mapIds) : ""));
            context.Out.WriteLine("\t" + Verdict(v));
            if (level > 0 && v.Result is not null)
                context.Out.Write(v.Result.Log);
        }

        for (var i = 0; i < obj.Maps.Count; i++)
        {
            var m = obj.Maps[i];
            context.Out.WriteLine($"{Inv(i)}: {m.TypeName}  name {m.Name}  flags 0x{m.Flags.ToString("x", CultureInfo.InvariantCulture)}");
            context.Out.WriteLine($"\tkey {Inv(m.KeySize)}B  value {Inv(m.ValueSize)}B  max_entries {Inv(m.MaxEntries)}");
        }
    }

    private static string Verdict(ProgramVerdict v) =>
        v.Result is null ? "not verified: " + v.NotVerifiedReason
        : v.Result.Accepted ? $"verified  processed {Inv(v.Result.ProcessedInsns)} insns"
        : $"rejected: {v.Result.Error}  processed {Inv(v.Result.ProcessedInsns)} insns";

    private static string ToJson(BpfObject obj, List<ProgramVerdict> verdicts)
    {
        var progs = new JsonArray();
        foreach (var v in verdicts)
        {
            var p = v.Program;
            var o = new JsonObject
            {
                ["name"] = p.Name,
                ["section"] = p.Section,
                ["type"] = p.TypeName,
                ["insns"] = p.Instructions.Count,
                ["verified"] = v.Verified,
                ["tag"] = BpfObjectVerifier.Tag(p.Instructions),
                ["processed_insns"] = v.Result?.ProcessedInsns,
                ["map_ids"] = new JsonArray(p.MapReferences.Select(r => r.MapIndex).Distinct().Order().Select(x => (JsonNode)x).ToArray()),
            };
            if (p.AttachTarget is not null)
                o["attach_target"] = p.AttachTarget;
            if (v.Result is { Accepted: false })
                o["error"] = v.Result.Error;
            if (v.NotVerifiedReason is not null)
                o["not_verified"] = v.NotVerifiedReason;
            progs.Add(o);
        }

        var maps = new JsonArray();
        for (var i = 0; i < obj.Maps.Count; i++)
        {
            var m = obj.Maps[i];
            maps.Add(new JsonObject
            {
                ["id"] = i,
                ["name"] = m.Name,
                ["type"] = m.TypeName,
                ["key_size"] = m.KeySize,
                ["value_size"] = m.ValueSize,
                ["max_entries"] = m.MaxEntries,
                ["flags"] = m.Flags,
            });
        }

        var root = new JsonObject { ["license"] = obj.License, ["programs"] = progs, ["maps"] = maps };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}
