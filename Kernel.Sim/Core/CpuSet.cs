using System.Runtime.CompilerServices;

namespace Kernel.Sim.Core;

/// <summary>The kernel's CPUs (cpu_possible_mask = cpu_online_mask) and per-CPU helpers.</summary>
public sealed class CpuSet
{
    private readonly SimulatedCpu[] _cpus;
    private readonly KernelCore _core;

    internal CpuSet(KernelCore core, SimulatedCpu[] cpus)
    {
        _core = core;
        _cpus = cpus;
    }

    /// <summary>num_possible_cpus() (= num_online_cpus()).</summary>
    public int Count => _cpus.Length;

    public SimulatedCpu this[int id] => _cpus[id];

    /// <summary>Every CPU by id.</summary>
    public IReadOnlyList<SimulatedCpu> All => _cpus;

    /// <summary>The CPU of this kernel the calling thread runs, or null (none, or a CPU of another kernel).</summary>
    public SimulatedCpu? Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var cpu = SimulatedCpu.Current;
            return cpu is not null && cpu.Core == _core ? cpu : null;
        }
    }

    /// <summary>smp_processor_id(); throws when the calling thread runs no CPU of this kernel.</summary>
    public int SmpProcessorId() => RequireCurrent().Id;

    /// <summary>The current CPU, or an exception naming the mistake. Inlined into hook paths (one thread-local read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SimulatedCpu RequireCurrent() => Current ?? NotOnACpu();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static SimulatedCpu NotOnACpu() =>
        throw new InvalidOperationException("not running on a CPU of this kernel: enter one with SimulatedCpu.Run");

    /// <summary>Runs <paramref name="work"/> on every CPU at once, each on its own thread, and waits for all.</summary>
    public void RunOnEach(Action<SimulatedCpu> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var threads = _cpus.Select(cpu => cpu.Start(() => work(cpu))).ToArray();
        foreach (var thread in threads)
            thread.Join();
    }

    /// <summary>
    /// synchronize_rcu(): waits until every CPU that was inside an RCU read-side section when called has left it.
    /// Called after publishing a new pointer, it guarantees no CPU still uses the old one. Readers mark their sections
    /// with plain stores, so a reader's "I am inside" store may still sit in its store buffer while its next load
    /// already read the old pointer; the process-wide barrier (membarrier, an IPI to every CPU in Linux's terms)
    /// drains every such store first: after it, each reader either shows an odd counter or will load the new pointer.
    /// </summary>
    public void SynchronizeRcu()
    {
        if (Current is { InRcuReadSection: true })
            throw new InvalidOperationException("synchronize_rcu() inside an RCU read-side critical section would deadlock");
        Interlocked.MemoryBarrierProcessWide();
        var spinner = new SpinWait();
        foreach (var cpu in _cpus)
        {
            var seen = cpu.RcuCounter;
            if ((seen & 1) == 0)
                continue;
            while (cpu.RcuCounter == seen)
                spinner.SpinOnce();
        }
    }
}

/// <summary>One value per CPU (DEFINE_PER_CPU); index with the CPU id.</summary>
public sealed class PerCpu<T>
{
    // Values sit in a struct so that taking a ref to one is a plain address computation: a ref into a T[] of a
    // reference type would pay the array-covariance type check on every access.
    private readonly Slot[] _values;

    public PerCpu(CpuSet cpus, Func<int, T> create)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        ArgumentNullException.ThrowIfNull(create);
        _values = new Slot[cpus.Count];
        for (var i = 0; i < _values.Length; i++)
            _values[i].Value = create(i);
    }

    private struct Slot
    {
        public T Value;
    }

    /// <summary>per_cpu(var, cpu).</summary>
    public ref T this[int cpu] => ref _values[cpu].Value;

    public int Count => _values.Length;
}
