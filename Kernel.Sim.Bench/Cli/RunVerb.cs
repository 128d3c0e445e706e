using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kernel.Sim.Cpu;
using Kernel.Sim.Hosting;
using Kernel.Sim.Net;
using Kernel.Sim.Tracing.ProbeEvents;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// <c>kernelsim run</c>, the main job: the same traffic through the simulated receive path under every dispatch
/// strategy, each in a fresh kernel, printing measured host ns per packet, modelled cycles per packet and the
/// dispatch share, guard hit rates, and where every frame ended.
/// </summary>
public sealed class RunVerb : IVerb
{
    public string Parent => "";

    public Command Build(CliContext context)
    {
        var strategy = new Option<string>("--strategy") { Description = "all, or one of: " + string.Join(", ", DispatchStrategies.All.Select(s => s.Name())), DefaultValueFactory = _ => "all" };
        var mix = new Option<string?>("--mix") { Description = "traffic mix, e.g. ipv4=80,ipv6=15,arp=5,udp=70,tcp=25,icmp=5,size=imix,bad=1,malformed=1,closed=2,flows=64" };
        var pcap = new Option<string?>("--pcap") { Description = "replay a pcap or pcapng capture (Ethernet) instead of generated traffic" };
        var packets = new Option<long>("--packets", "-n") { Description = "packets per strategy", DefaultValueFactory = _ => 100_000 };
        var cpus = new Option<int>("--cpus") { Description = "simulated CPUs = rx queues (RSS), one host thread each", DefaultValueFactory = _ => 1 };
        var profile = new Option<string>("--profile", "-p") { Description = $"CPU profile of the modelled cycles: {string.Join(", ", CpuProfiles.Names)}", DefaultValueFactory = _ => CpuProfiles.Skylake.Name };
        var bpf = new Option<string[]>("--bpf") { Description = "attach every program of a BPF object by section name (needs the ELF loader, maps and verifier)" };
        var events = new Option<string[]>("-e") { Description = "a probe event in kprobe_events syntax (e.g. 'p:rcv ip_rcv len=+112(%di):u32'), or net:netif_receive_skb" };
        var seed = new Option<ulong>("--seed", "-s") { Description = "seed of the generated traffic", DefaultValueFactory = _ => 1 };
        var xdp = new Option<string?>("--xdp") { Description = "attach a built-in XDP program returning a fixed action: pass, drop, tx, aborted" };
        var tap = new Option<bool>("--tap") { Description = "open an AF_PACKET tap (packet_rcv on ptype_all)" };
        var noProbes = new Option<bool>("--no-probes") { Description = "do not attach the default probes (an XDP counter per family, a kprobe on ip_rcv counting per protocol)" };
        var json = new Option<bool>("--json") { Description = "machine-readable output" };
        var command = new Command("run", "Run traffic through the simulated receive path under each dispatch strategy (the main job)");
        foreach (var option in new Option[] { strategy, mix, pcap, packets, cpus, profile, bpf, events, seed, xdp, tap, noProbes, json })
            command.Options.Add(option);
        command.SetAction(parsed =>
        {
            var settings = new RunSettings(
                ParseStrategies(parsed.GetValue(strategy)!),
                parsed.GetValue(mix),
                parsed.GetValue(pcap),
                parsed.GetValue(packets),
                parsed.GetValue(cpus),
                ResolveProfile(parsed.GetValue(profile)!),
                parsed.GetValue(bpf) ?? [],
                parsed.GetValue(events) ?? [],
                parsed.GetValue(seed),
                ParseXdp(parsed.GetValue(xdp)),
                parsed.GetValue(tap),
                parsed.GetValue(noProbes));
            return Execute(context, settings, parsed.GetValue(json));
        });
        return command;
    }

    private static int Execute(CliContext context, RunSettings s, bool json)
    {
        if (s.Packets is < 1 or > 1_000_000_000)
            throw new CliUsageException($"--packets must be 1..1000000000, not {s.Packets}");
        if (s.Cpus is < 1 or > 64)
            throw new CliUsageException($"--cpus must be 1..64, not {s.Cpus}");
        if (s.Bpf.Count > 0 && s.Xdp is not null)
            throw new CliUsageException("--bpf and --xdp exclude each other when an object brings an XDP program");
        var objects = LoadObjects(s);
        if (s.Pcap is not null && s.Mix is not null)
            throw new CliUsageException("--mix and --pcap exclude each other: a capture brings its own traffic");
        if (ValidateEvents(context, s.Events, s.Cpus) is { } failure)
            return failure;
        if (ValidateObjects(objects, s.Cpus) is { } error)
            throw new CliUsageException(error);

        using var traffic = BuildTraffic(s);
        var eventHits = new Dictionary<DispatchStrategy, List<(string Name, long Hits)>>();
        var probes = new Dictionary<DispatchStrategy, BpfPathProbes>();
        IReadOnlyList<(string Name, string Json)> maps = [];
        var options = new PacketPathRunOptions
        {
            Strategies = s.Strategies,
            Traffic = traffic,
            Packets = s.Packets,
            WarmupPackets = Math.Min(20_000, s.Packets),
            Cpus = s.Cpus,
            Profile = s.Profile,
            PacketTap = s.Tap,
            Attach = (kernel, stack) =>
            {
                Attach(kernel, stack, s);
                if (objects.Count > 0)
                    probes[stack.Strategy] = BpfPathProbes.Attach(kernel, stack, objects);
            },
            BeforeMeasured = (kernel, stack, strategy) =>
            {
                eventHits[strategy] = CollectEvents(kernel, stack);
                if (probes.TryGetValue(strategy, out var p))
                    p.Clear();
            },
            AfterMeasured = (kernel, stack, strategy) =>
            {
                eventHits[strategy] = [.. CollectEvents(kernel, stack).Zip(eventHits[strategy], (after, before) => (after.Name, after.Hits - before.Hits))];
                if (probes.TryGetValue(strategy, out var p))
                    maps = p.Dump();
            },
            Progress = line => context.Error.WriteLine(line),
        };
        var results = PacketPathRunner.Run(options);
        var attached = probes.Values.FirstOrDefault()?.Attached ?? [];
        if (json)
            context.Out.WriteLine(ToJson(s, traffic, results, eventHits, maps));
        else
            WriteTable(context.Out, s, traffic, results, eventHits, maps, attached);
        return KernelSimCli.Success;
    }

    private static void Attach(SimulatedKernel kernel, NetStack stack, RunSettings s)
    {
        foreach (var definition in s.Events)
        {
            if (IsTracepoint(definition))
            {
                stack.NetifReceiveSkb!.Enabled = true;
                continue;
            }

            var probeEvent = kernel.Tracing.ProbeEvents.Add(definition);
            kernel.Tracing.ProbeEvents.SetEnabled(probeEvent, true);
        }

        if (s.Xdp is { } action)
            stack.AttachXdp(new FixedXdpProgram(action));
    }

    private static List<(string Name, long Hits)> CollectEvents(SimulatedKernel kernel, NetStack stack)
    {
        var hits = kernel.Tracing.ProbeEvents.Events.Select(e => ($"{e.Group}:{e.Name}", e.Hits)).ToList();
        if (stack.NetifReceiveSkb is { Enabled: true } tp)
            hits.Add(("net:netif_receive_skb", tp.Hits));
        return hits;
    }

    // The default probes, unless disabled or replaced by --bpf (each CPU runs its own copy of every program).
    private static List<(string Name, byte[] Image)> LoadObjects(RunSettings s)
    {
        var objects = new List<(string Name, byte[] Image)>();
        foreach (var path in s.Bpf)
        {
            try
            {
                objects.Add((path, File.ReadAllBytes(path)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliUsageException($"--bpf {path}: {e.Message}");
            }
        }

        if (objects.Count == 0 && !s.NoProbes && s.Xdp is null)
        {
            using var resource = typeof(RunVerb).Assembly.GetManifestResourceStream("path_probes.o")
                ?? throw new InvalidOperationException("the default probes (path_probes.o) are missing from the kernelsim assembly");
            using var copy = new MemoryStream();
            resource.CopyTo(copy);
            objects.Add(("path_probes.o", copy.ToArray()));
        }

        return objects;
    }

    // Objects are loaded, verified and attached once on a scratch kernel, so a bad one fails before any traffic runs.
    private static string? ValidateObjects(List<(string Name, byte[] Image)> objects, int cpus)
    {
        if (objects.Count == 0)
            return null;
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = cpus });
        var stack = new NetStack(kernel.Core, new NetStackOptions(), kernel.Tracing);
        try
        {
            BpfPathProbes.Attach(kernel, stack, objects);
            return null;
        }
        catch (Kernel.Sim.Bpf.Elf.BpfObjectException e)
        {
            return "--bpf " + e.Message;
        }
    }

    private static bool IsTracepoint(string definition) => definition.Trim() is "net:netif_receive_skb" or "net/netif_receive_skb";

    // Definitions are checked once on a scratch kernel, so a bad one fails before any traffic runs.
    private static int? ValidateEvents(CliContext context, IReadOnlyList<string> events, int cpus)
    {
        if (events.Count == 0)
            return null;
        using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = cpus });
        _ = new NetStack(kernel.Core, new NetStackOptions(), kernel.Tracing);
        foreach (var definition in events.Where(d => !IsTracepoint(d)))
        {
            try
            {
                kernel.Tracing.ProbeEvents.Add(definition);
            }
            catch (ProbeEventException e)
            {
                context.Error.WriteLine($"kernelsim: trace_kprobe: error: {e.Message}");
                context.Error.WriteLine(e.Caret);
                return KernelSimCli.BadInput;
            }
        }

        return null;
    }

    private static TrafficPool BuildTraffic(RunSettings s)
    {
        if (s.Pcap is { } path)
        {
            IReadOnlyList<CapturedFrame> frames;
            try
            {
                frames = PcapFile.Read(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PcapFormatException)
            {
                throw new CliUsageException($"--pcap {path}: {e.Message}");
            }

            if (frames.Count == 0)
                throw new CliUsageException($"--pcap {path}: the capture holds no frames");
            return TrafficPool.FromCapture(frames, s.Cpus, $"{path} ({frames.Count} frames)");
        }

        TrafficMix mix;
        try
        {
            mix = s.Mix is null ? TrafficMix.Default : TrafficMix.Parse(s.Mix);
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"--mix: {e.Message}");
        }

        return TrafficPool.Generate(mix, s.Seed, (int)Math.Min(s.Packets, 8192), s.Cpus);
    }

    private static IReadOnlyList<DispatchStrategy> ParseStrategies(string text)
    {
        if (text == "all")
            return DispatchStrategies.All;
        var list = new List<DispatchStrategy>();
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            list.Add(DispatchStrategies.Parse(name)
                ?? throw new CliUsageException($"--strategy: unknown strategy '{name}' (all, {string.Join(", ", DispatchStrategies.All.Select(s => s.Name()))})"));
        }

        return list.Count == 0 ? throw new CliUsageException("--strategy: no strategy given") : list;
    }

    private static XdpAction? ParseXdp(string? name) => name switch
    {
        null => null,
        "pass" => XdpAction.XDP_PASS,
        "drop" => XdpAction.XDP_DROP,
        "tx" => XdpAction.XDP_TX,
        "aborted" => XdpAction.XDP_ABORTED,
        _ => throw new CliUsageException($"--xdp: unknown action '{name}' (pass, drop, tx, aborted)"),
    };

    private static CpuProfile ResolveProfile(string name)
    {
        try
        {
            return CpuProfiles.Resolve(name);
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or FormatException or IOException)
        {
            throw new CliUsageException($"--profile: {e.Message}");
        }
    }

    private static string Family(NetFamily f) => f.ToString().ToLowerInvariant();

    private static string ToJson(RunSettings s, TrafficPool traffic, IReadOnlyList<PathRunResult> results, Dictionary<DispatchStrategy, List<(string Name, long Hits)>> eventHits, IReadOnlyList<(string Name, string Json)> maps)
    {
        var array = new JsonArray();
        foreach (var r in results)
        {
            var delivered = new JsonObject();
            var droppedByFamily = new JsonObject();
            foreach (var f in Enum.GetValues<NetFamily>())
            {
                delivered[Family(f)] = r.Delivered[f];
                droppedByFamily[Family(f)] = r.Dropped[f];
            }

            var reasons = new JsonObject();
            foreach (var (reason, count) in r.DropReasons)
                reasons[reason.ToString()] = count;
            var sites = new JsonArray();
            foreach (var site in r.Sites)
            {
                sites.Add(new JsonObject
                {
                    ["site"] = site.Name,
                    ["candidates"] = new JsonArray([.. site.Candidates.Select(c => (JsonNode)JsonValue.Create(c))]),
                    ["hits"] = site.Hits,
                    ["misses"] = site.Misses,
                });
            }

            var events = new JsonObject();
            foreach (var (name, hits) in eventHits.GetValueOrDefault(r.Strategy) ?? [])
                events[name] = hits;
            array.Add(new JsonObject
            {
                ["strategy"] = r.Strategy.Name(),
                ["packets"] = r.Packets,
                ["ns_per_packet"] = Round(r.NsPerPacket),
                ["cycles_per_packet"] = Round(r.CyclesPerPacket),
                ["dispatch_share"] = Round(r.DispatchShare, 4),
                ["mispredicts_per_packet"] = Round(r.MispredictsPerPacket, 4),
                ["guard_hit_rate"] = Round(r.GuardHitRate, 4),
                ["delivered"] = delivered,
                ["dropped"] = r.DroppedTotal,
                ["dropped_by_family"] = droppedByFamily,
                ["drop_reasons"] = reasons,
                ["xdp"] = new JsonObject
                {
                    ["pass"] = r.Counters[NetCounter.XdpPass],
                    ["drop"] = r.Counters[NetCounter.XdpDrop],
                    ["tx"] = r.Counters[NetCounter.XdpTx],
                    ["aborted"] = r.Counters[NetCounter.XdpAborted],
                },
                ["rx_dropped"] = r.Counters[NetCounter.RxDropped],
                ["call_sites"] = sites,
                ["events"] = events,
            });
        }

        var root = new JsonObject
        {
            ["traffic"] = traffic.Description,
            ["cpus"] = s.Cpus,
            ["profile"] = s.Profile.Name,
            ["results"] = array,
            ["maps"] = MapsJson(maps),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject MapsJson(IReadOnlyList<(string Name, string Json)> maps)
    {
        var o = new JsonObject();
        foreach (var (name, json) in maps)
            o[name] = JsonNode.Parse(json);
        return o;
    }

    // NaN (not modelled, no guards) becomes null in JSON.
    private static JsonNode? Round(double value, int digits = 2) => double.IsNaN(value) ? null : JsonValue.Create(Math.Round(value, digits));

    private static void WriteTable(
        TextWriter o, RunSettings s, TrafficPool traffic, IReadOnlyList<PathRunResult> results, Dictionary<DispatchStrategy, List<(string Name, long Hits)>> eventHits,
        IReadOnlyList<(string Name, string Json)> maps, IReadOnlyList<string> attached)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(inv, $"kernelsim run: {s.Packets} packets per strategy, {s.Cpus} CPU(s), modelled on {s.Profile.Name}"));
        o.WriteLine($"traffic: {traffic.Description}");
        o.WriteLine();
        o.WriteLine($"{"strategy",-17}{"ns/pkt",8}{"cycles/pkt",12}{"dispatch",10}{"mispred/pkt",13}{"guard hits",12}{"ipv4",9}{"ipv6",9}{"arp",8}{"other",8}{"dropped",9}");
        foreach (var r in results)
        {
            o.WriteLine(string.Create(inv,
                $"{r.Strategy.Name(),-17}{r.NsPerPacket,8:F1}{Num(r.CyclesPerPacket, "F1"),12}{Pct(r.DispatchShare),10}{Num(r.MispredictsPerPacket, "F2"),13}{Pct(r.GuardHitRate),12}{r.Delivered[NetFamily.Ipv4],9}{r.Delivered[NetFamily.Ipv6],9}{r.Delivered[NetFamily.Arp],8}{r.Delivered[NetFamily.Other],8}{r.DroppedTotal,9}"));
        }

        o.WriteLine("(ipv4..other: frames delivered — consumed by a socket, ARP or ICMP; measured ns on this host, modelled cycles from the profile)");
        var first = results[0];
        if (first.DropReasons.Count > 0)
            o.WriteLine("drops: " + string.Join(", ", first.DropReasons.Select(d => string.Create(inv, $"{d.Reason} {d.Count}"))) + string.Create(inv, $"; rx_dropped {first.Counters[NetCounter.RxDropped]}"));
        if (first.Counters[NetCounter.XdpPass] + first.Counters[NetCounter.XdpDrop] + first.Counters[NetCounter.XdpTx] + first.Counters[NetCounter.XdpAborted] > 0)
        {
            o.WriteLine(string.Create(inv,
                $"xdp: pass {first.Counters[NetCounter.XdpPass]}, drop {first.Counters[NetCounter.XdpDrop]}, tx {first.Counters[NetCounter.XdpTx]}, aborted {first.Counters[NetCounter.XdpAborted]}"));
        }

        o.WriteLine();
        o.WriteLine("call sites (hits = direct calls taken):");
        foreach (var r in results.Where(r => r.Sites.Any(x => x.Candidates.Count > 0)))
        {
            foreach (var site in r.Sites.Where(x => x.Hits + x.Misses > 0 && x.Candidates.Count > 0))
            {
                var total = site.Hits + site.Misses;
                o.WriteLine(string.Create(inv,
                    $"  {r.Strategy.Name(),-12} {site.Name,-36} [{string.Join(", ", site.Candidates)}] {site.Hits}/{total} ({site.Hits * 100.0 / total:F1}%)"));
            }
        }

        foreach (var (strategy, hits) in eventHits.Where(e => e.Value.Count > 0))
            o.WriteLine($"events ({strategy.Name()}): " + string.Join(", ", hits.Select(h => string.Create(inv, $"{h.Name} {h.Hits}"))));
        o.WriteLine();
        if (maps.Count == 0)
        {
            o.WriteLine("maps: none (no BPF probes attached)");
            return;
        }

        o.WriteLine($"probes (verified, JIT-compiled): {string.Join("; ", attached)}");
        o.WriteLine("maps (bpftool map dump -j, the last strategy's measured pass):");
        foreach (var (name, json) in maps)
            o.WriteLine($"  {name}: {Compact(json)}");
    }

    // The non-zero entries as KEY=VALUE with little-endian integer keys and values (the full dump is in --json); a
    // per-CPU map's entry (bpftool's "values": [{cpu, value}]) shows the sum, then each CPU's value.
    private static string Compact(string json)
    {
        static ulong Number(JsonNode? bytes) =>
            bytes is JsonArray v && v.Count <= 8
                ? v.Select((b, i) => Convert.ToUInt64(b!.GetValue<string>()[2..], 16) << (8 * i)).Aggregate(0UL, (a, b) => a | b)
                : 0UL;
        var inv = CultureInfo.InvariantCulture;
        var entries = JsonNode.Parse(json)!.AsArray()
            .Select(e => e!["values"] is JsonArray perCpu
                ? (Key: Number(e["key"]), Values: perCpu.Select(c => Number(c!["value"])).ToArray())
                : (Key: Number(e["key"]), Values: [Number(e["value"])]))
            .Where(e => e.Values.Any(v => v != 0))
            .Select(e => e.Values.Length == 1
                ? string.Create(inv, $"{e.Key}={e.Values[0]}")
                : string.Create(inv, $"{e.Key}={e.Values.Aggregate(0UL, (a, b) => a + b)} ({string.Join('+', e.Values)})"));
        var text = string.Join(" ", entries);
        return text.Length == 0 ? "(all zero)" : text;
    }

    private static string Num(double value, string format) => double.IsNaN(value) ? "-" : value.ToString(format, CultureInfo.InvariantCulture);

    private static string Pct(double value) => double.IsNaN(value) ? "-" : (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private sealed record RunSettings(
        IReadOnlyList<DispatchStrategy> Strategies,
        string? Mix,
        string? Pcap,
        long Packets,
        int Cpus,
        CpuProfile Profile,
        IReadOnlyList<string> Bpf,
        IReadOnlyList<string> Events,
        ulong Seed,
        XdpAction? Xdp,
        bool Tap,
        bool NoProbes);
}
