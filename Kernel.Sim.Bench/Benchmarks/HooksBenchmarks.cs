using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Kernel.Sim.Core;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// The cost of an fentry site: a plain (untraced) call of the body; the same function through its patched site
/// (<see cref="FentryCallerSite{TArgs, TCaller}"/>: the calling loop instantiated over the site's state, the NOP
/// instantiation has no check; goal ≤ 1.05× with nothing attached); through the load-and-branch check
/// (<see cref="KernelFunction.Fentry"/>, the form the packet path uses); with the function tracer writing to the ring
/// buffer, and with a C# kprobe pre_handler. Each benchmark makes <see cref="Calls"/> calls on a simulated CPU;
/// results are per call.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MinColumns))]
public class HooksBenchmarks
{
    private const int Calls = 1000;
    private const ulong ParentIp = 0xffffffff81000042;

    private SimulatedKernel _kernel = null!;
    private KernelFunction _function = null!;
    private SimulatedCpu _cpu = null!;
    private Action _untraced = null!;
    private Action _traced = null!;
    private Action _checked = null!;
    private FentryCallerSite<HooksBenchmarks, TracedLoopCaller> _site = null!;
    private ulong _sink;
    private long _kprobeHits;

    [Params("none", "function", "kprobe")]
    public string Attached { get; set; } = "none";

    [GlobalSetup]
    public void Setup()
    {
        _kernel = new SimulatedKernel(new KernelSimOptions { Cpus = 1 });
        _function = _kernel.Core.Functions.Define("long bench_add(long a, long b)", (ref PtRegs r) => Body(r.di, r.si));
        _cpu = _kernel.Core.Cpus[0];
        _untraced = UntracedLoop;
        _site = _function.CallerSite<HooksBenchmarks, TracedLoopCaller>();
        _traced = TracedLoop;
        _checked = CheckedLoop;
        switch (Attached)
        {
            case "function":
                _kernel.Tracing.Ftrace.SetFilter(_kernel.Tracing.Trace.GlobalOps, "bench_add", reset: true);
                _kernel.Tracing.Trace.SetTracer("function");
                break;
            case "kprobe":
                _kernel.Tracing.Kprobes.Register(new Kprobe
                {
                    SymbolName = "bench_add",
                    PreHandler = (Kprobe p, ref PtRegs regs) =>
                    {
                        _kprobeHits += (long)regs.di & 1;
                        return 0;
                    },
                });
                break;
        }

        if (_site.Calls != (Attached != "none"))
            throw new InvalidOperationException("the caller site was not repatched with the fentry site");
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public void Untraced() => _cpu.Run(_untraced);

    /// <summary>The patched site: the loop below entered at its current instantiation.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public void ThroughFentrySite() => _cpu.Run(_traced);

    /// <summary>The unpatched form: every call loads <see cref="KernelFunction.Fentry"/> and branches.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public void ThroughFentryCheck() => _cpu.Run(_checked);

    private void TracedLoop() => _site.Run(this);

    private void UntracedLoop()
    {
        ulong sum = 0;
        for (ulong i = 0; i < Calls; i++)
            sum += UntracedAdd(i, sum);
        _sink = sum;
    }

    private void CheckedLoop()
    {
        ulong sum = 0;
        for (ulong i = 0; i < Calls; i++)
            sum += CheckedAdd(i, sum);
        _sink = sum;
    }

    /// <summary>The calling loop as a caller of bench_add's fentry site, compiled once per site state.</summary>
    private readonly struct TracedLoopCaller : IFentryCaller<HooksBenchmarks>
    {
        public static ulong Run<TPatch>(HooksBenchmarks bench)
            where TPatch : struct, IFentryPatch
        {
            // The untraced loop runs on `this`, known non-null; checking once here spares a null check per call.
            ArgumentNullException.ThrowIfNull(bench);
            ulong sum = 0;
            for (ulong i = 0; i < Calls; i++)
                sum += bench.TracedAdd<TPatch>(i, sum);
            bench._sink = sum;
            return sum;
        }
    }

    /// <summary>The same function without a site (same shape: an instance method that is not inlined).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong UntracedAdd(ulong a, ulong b) => Body(a, b);

    /// <summary>
    /// A simulated function's entry behind a patched site: in the <see cref="FentryNop"/> instantiation the condition
    /// is constant false and only the body remains.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong TracedAdd<TPatch>(ulong a, ulong b)
        where TPatch : struct, IFentryPatch
    {
        if (TPatch.Calls && _function.Fentry is { } hook)
            return hook.Invoke(_function, ParentIp, a, b, 0, 0, 0, 0);
        return Body(a, b);
    }

    /// <summary>A simulated function's entry with the check: one load of the site, one branch, then the body.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong CheckedAdd(ulong a, ulong b)
    {
        var function = _function;
        if (function.Fentry is { } hook)
            return hook.Invoke(function, ParentIp, a, b, 0, 0, 0, 0);
        return Body(a, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Body(ulong a, ulong b) => (a ^ (b >> 3)) + 1;

    /// <summary>Min and Median: on a loaded machine preemption only adds time, so the fastest iteration is the most faithful.</summary>
    internal sealed class MinColumns : ManualConfig
    {
        public MinColumns() => AddColumn(StatisticColumn.Min, StatisticColumn.Median);
    }

    /// <summary>Keeps the results observable.</summary>
    public ulong Sink => _sink + (ulong)_kprobeHits;
}
