using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Kernel.Sim.Core;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tracing;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// The cost of an fentry site: a plain (untraced) call, the same function through its site with nothing attached
/// (goal ≤ 1.05×), with the function tracer writing to the ring buffer, and with a C# kprobe pre_handler.
/// Each benchmark makes <see cref="Calls"/> calls on a simulated CPU; results are per call.
/// </summary>
[MemoryDiagnoser]
public class HooksBenchmarks
{
    private const int Calls = 1000;
    private const ulong ParentIp = 0xffffffff81000042;

    private SimulatedKernel _kernel = null!;
    private KernelFunction _function = null!;
    private SimulatedCpu _cpu = null!;
    private Action _untraced = null!;
    private Action _traced = null!;
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
        _traced = TracedLoop;
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
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public void Untraced() => _cpu.Run(_untraced);

    [Benchmark(OperationsPerInvoke = Calls)]
    public void ThroughFentrySite() => _cpu.Run(_traced);

    private void UntracedLoop()
    {
        ulong sum = 0;
        for (ulong i = 0; i < Calls; i++)
            sum += UntracedAdd(i, sum);
        _sink = sum;
    }

    private void TracedLoop()
    {
        ulong sum = 0;
        for (ulong i = 0; i < Calls; i++)
            sum += TracedAdd(i, sum);
        _sink = sum;
    }

    /// <summary>The same function without a site (same shape: an instance method that is not inlined).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong UntracedAdd(ulong a, ulong b) => Body(a, b) + (_sink & 0);

    /// <summary>A simulated function's entry: the fentry site check, then the body.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong TracedAdd(ulong a, ulong b)
    {
        var function = _function;
        if (function.Fentry is { } hook)
            return hook.Invoke(function, ParentIp, a, b, 0, 0, 0, 0);
        return Body(a, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Body(ulong a, ulong b) => (a ^ (b >> 3)) + 1;

    /// <summary>Keeps the results observable.</summary>
    public ulong Sink => _sink + (ulong)_kprobeHits;
}
