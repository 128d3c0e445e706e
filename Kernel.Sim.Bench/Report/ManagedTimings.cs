using System.Diagnostics;
using System.Runtime.CompilerServices;
using Kernel.Sim.Calls;
using Kernel.Sim.Core;
using Kernel.Sim.Cpu;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Bench.Report;

/// <summary>A measured time per call: the minimum and median over repetitions (the minimum is the least disturbed run).</summary>
public sealed record Timing(string Name, double MinNs, double MedianNs);

/// <summary>
/// Quick Stopwatch measurements for the report, where BenchmarkDotNet is too slow: the managed dispatch mechanisms
/// (model off) and the ladder of hook costs on a simulated kernel function. Each figure is ns per call over
/// <c>calls</c> calls, min and median over <c>repetitions</c> runs after one warm-up run.
/// </summary>
public static class ManagedTimings
{
    private const ulong ParentIp = 0xffffffff81000042;

    /// <summary>Direct call, function-pointer indirect call, guard hit and miss, static_call inline and trampoline, adaptive site.</summary>
    public static IReadOnlyList<Timing> Dispatch(int calls, int repetitions)
    {
        var ip = CallTarget<nint>.Of<IpRcv>();
        var indirect = new IndirectCallSite<nint>("report_indirect", Mitigation.Retpoline);
        var guardHit = new IndirectCallGuard<nint, IpRcv>("report_guard_hit", Mitigation.Retpoline);
        var guardMiss = new IndirectCallGuard<nint, TpacketRcv>("report_guard_miss", Mitigation.Retpoline);
        var call = StaticCall<nint>.Define<IpRcv>("report_static_call");
        var site = call.Site<Caller>("report_static_call_site");
        var adaptive = new AdaptiveCallSite<nint>("report_adaptive", Mitigation.Retpoline);
        return
        [
            Time("direct", calls, repetitions, n => { var s = 0; for (var i = 0; i < n; i++) s += IpRcv.Invoke(i); return s; }),
            Time("indirect (function pointer)", calls, repetitions, n => { var s = 0; for (var i = 0; i < n; i++) s += indirect.Call(ip, i); return s; }),
            Time("guard-hit", calls, repetitions, n => { var s = 0; for (var i = 0; i < n; i++) s += guardHit.Call(ip, i); return s; }),
            Time("guard-miss", calls, repetitions, n => { var s = 0; for (var i = 0; i < n; i++) s += guardMiss.Call(ip, i); return s; }),
            Time("static-call (inline site)", calls, repetitions, n => { var s = 0; for (var i = 0; i < n; i++) s += site.Run(i); return s; }),
            Time("static-call-trampoline", calls, repetitions, n => { var s = 0; for (var i = 0; i < n; i++) s += call.Call(i); return s; }),
            Time("adaptive", calls, repetitions, n => { var s = 0; for (var i = 0; i < n; i++) s += adaptive.Call(ip, i); return s; }),
        ];
    }

    /// <summary>
    /// One simulated kernel function called through its fentry site with nothing attached, the function tracer,
    /// function_graph, a C# kprobe, and a kprobe event with two fetch arguments; beside a plain call of the body.
    /// </summary>
    public static IReadOnlyList<Timing> Hooks(int calls, int repetitions)
    {
        var results = new List<Timing>();
        foreach (var rung in new[] { "untraced body", "fentry site, nothing attached", "function tracer", "function_graph tracer", "C# kprobe", "kprobe event, 2 args" })
        {
            using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
            var function = kernel.Core.Functions.Define("long report_add(long a, long b)", (ref PtRegs r) => Body(r.di, r.si));
            var cpu = kernel.Core.Cpus[0];
            switch (rung)
            {
                case "function tracer":
                case "function_graph tracer":
                    kernel.Tracing.Ftrace.SetFilter(kernel.Tracing.Trace.GlobalOps, "report_add", reset: true);
                    kernel.Tracing.Trace.SetTracer(rung.StartsWith("function_graph", StringComparison.Ordinal) ? "function_graph" : "function");
                    break;
                case "C# kprobe":
                    kernel.Tracing.Kprobes.Register(new Kprobe { SymbolName = "report_add", PreHandler = (Kprobe p, ref PtRegs regs) => 0 });
                    break;
                case "kprobe event, 2 args":
                    var e = kernel.Tracing.ProbeEvents.Add("p:report report_add a=%di b=%si:u32");
                    kernel.Tracing.ProbeEvents.SetEnabled(e, true);
                    break;
            }

            var untraced = rung == "untraced body";
            results.Add(Time(rung, calls, repetitions, n =>
            {
                ulong sum = 0;
                cpu.Run(() =>
                {
                    for (ulong i = 0; i < (ulong)n; i++)
                        sum += untraced ? Plain(i, sum) : function.Call(ParentIp, i, sum);
                });
                return (int)sum;
            }));
        }

        return results;
    }

    private static Timing Time(string name, int calls, int repetitions, Func<int, int> loop)
    {
        loop(calls);
        var ns = new double[repetitions];
        for (var r = 0; r < repetitions; r++)
        {
            var start = Stopwatch.GetTimestamp();
            loop(calls);
            ns[r] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls;
        }

        Array.Sort(ns);
        return new Timing(name, ns[0], ns[repetitions / 2]);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Plain(ulong a, ulong b) => Body(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Body(ulong a, ulong b) => (a ^ (b >> 3)) + 1;

    private readonly struct Caller : IStaticCallCaller<nint>
    {
        public static int Run<TTarget>(nint args)
            where TTarget : struct, ICallTarget<nint> => TTarget.Invoke(args);
    }
}
