using System.Runtime.CompilerServices;

namespace Kernel.Sim.Core;

/// <summary>What a CPU is executing: the context levels Linux's preempt_count and recursion protection distinguish.</summary>
public enum CpuContext
{
    /// <summary>Task (process) context.</summary>
    Task = 0,
    /// <summary>Serving a softirq (NET_RX for the packet path).</summary>
    SoftIrq = 1,
    /// <summary>A hard interrupt handler.</summary>
    HardIrq = 2,
    /// <summary>A non-maskable interrupt.</summary>
    Nmi = 3,
}

/// <summary>
/// One simulated CPU: its id (smp_processor_id), the current task, its local clock (ns), its execution context, and a
/// kernel stack in kernel memory. A CPU runs on whichever host thread entered it with <see cref="Run"/>; the
/// thread-local "current CPU" is saved and restored, so kernels and CPUs nest without leaking into each other.
/// </summary>
public sealed class SimulatedCpu
{
    /// <summary>THREAD_SIZE on x86-64 (16 KiB).</summary>
    public const int ThreadSize = 16 * 1024;

    [ThreadStatic]
    private static SimulatedCpu? t_current;

    private long _clock;
    private long _rcuCounter;
    private int _rcuNesting;

    internal SimulatedCpu(KernelCore core, int id, SimulatedTask idle, MemoryRegion stack)
    {
        Core = core;
        Id = id;
        Idle = idle;
        CurrentTask = idle;
        Stack = stack;
        StackPointer = stack.End;
    }

    /// <summary>The kernel this CPU belongs to.</summary>
    public KernelCore Core { get; }

    /// <summary>smp_processor_id().</summary>
    public int Id { get; }

    /// <summary>This CPU's idle task (swapper/N, pid 0).</summary>
    public SimulatedTask Idle { get; }

    /// <summary>current.</summary>
    public SimulatedTask CurrentTask { get; set; }

    /// <summary>The current execution context (task, softirq, hardirq, NMI).</summary>
    public CpuContext Context { get; private set; }

    /// <summary>preempt_count()'s preemption depth (low byte), shown in the trace flags column.</summary>
    public int PreemptDepth { get; set; }

    /// <summary>Whether local interrupts are disabled (the <c>d</c> trace flag).</summary>
    public bool IrqsDisabled { get; set; }

    /// <summary>The kernel stack (THREAD_SIZE bytes of kernel memory).</summary>
    public MemoryRegion Stack { get; }

    /// <summary>The simulated stack pointer; traced calls push return addresses and pt_regs frames below it.</summary>
    public ulong StackPointer { get; set; }

    /// <summary>This CPU's local clock in ns (trace_clock_local): deterministic, advanced by the simulation.</summary>
    public long ClockNs => Volatile.Read(ref _clock);

    /// <summary>Advances the local clock (work done on this CPU).</summary>
    public void Advance(long ns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ns);
        Volatile.Write(ref _clock, _clock + ns);
    }

    /// <summary>The CPU the calling thread is running, or null.</summary>
    public static SimulatedCpu? Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current;
    }

    /// <summary>Runs <paramref name="work"/> on this CPU on the calling thread (restoring whatever ran before).</summary>
    public void Run(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var previous = t_current;
        t_current = this;
        try
        {
            work();
        }
        finally
        {
            t_current = previous;
        }
    }

    /// <summary>Starts <paramref name="work"/> on this CPU on a new host thread.</summary>
    public Thread Start(Action work)
    {
        var thread = new Thread(() => Run(work)) { IsBackground = true, Name = $"cpu{Id}" };
        thread.Start();
        return thread;
    }

    /// <summary>Enters a context level (irq_enter / local_bh_disable + __do_softirq), left when the scope is disposed.</summary>
    public ContextScope Enter(CpuContext context)
    {
        var previous = Context;
        Context = context;
        return new ContextScope(this, previous);
    }

    /// <summary>Restores the previous context level.</summary>
    public readonly struct ContextScope : IDisposable
    {
        private readonly SimulatedCpu _cpu;
        private readonly CpuContext _previous;

        internal ContextScope(SimulatedCpu cpu, CpuContext previous)
        {
            _cpu = cpu;
            _previous = previous;
        }

        public void Dispose() => _cpu.Context = _previous;
    }

    /// <summary>
    /// rcu_read_lock(): the outermost lock makes this CPU's counter odd. A plain store, no fence: like Linux's RCU
    /// readers, the read side costs nothing and the writer pays instead (<see cref="CpuSet.SynchronizeRcu"/> runs a
    /// process-wide barrier, the membarrier / IPI that serialises every CPU, before it reads the counters). A CPU is
    /// run by one thread at a time, so only that thread writes its counter.
    /// </summary>
    public void RcuReadLock()
    {
        if (_rcuNesting++ == 0)
            Volatile.Write(ref _rcuCounter, _rcuCounter + 1);
    }

    /// <summary>rcu_read_unlock(): a release store, so everything read inside the section is done before the counter turns even.</summary>
    public void RcuReadUnlock()
    {
        if (--_rcuNesting == 0)
            Volatile.Write(ref _rcuCounter, _rcuCounter + 1);
    }

    /// <summary>
    /// The per-context recursion bits of ftrace_test_recursion_trylock (task, softirq, hardirq, NMI, transition):
    /// only this CPU's thread touches them, so plain reads and writes, as Linux's per-CPU (per-task) bits.
    /// </summary>
    internal int TraceRecursion;

    internal bool InRcuReadSection => _rcuNesting > 0;

    internal long RcuCounter => Volatile.Read(ref _rcuCounter);
}
