namespace Kernel.Sim.Core;

/// <summary>How the kernel core is built.</summary>
public sealed class KernelCoreOptions
{
    /// <summary>Number of simulated CPUs.</summary>
    public int Cpus { get; set; } = 1;

    /// <summary>Lines the printk ring keeps.</summary>
    public int PrintkLines { get; set; } = 1024;
}

/// <summary>
/// The kernel core: kernel memory and its region table, kallsyms, the simulated functions (kernel text), the CPUs with
/// their idle tasks and clocks, the task table, and printk. Everything is per instance: two cores share nothing.
/// </summary>
public sealed unsafe class KernelCore : IDisposable
{
    private readonly Lock _taskLock = new();
    private Dictionary<int, SimulatedTask> _tasks = [];

    public KernelCore(KernelCoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Cpus < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "a kernel needs at least one CPU");
        Memory = new KernelMemory();
        Symbols = new Kallsyms();
        Functions = new KernelFunctions(Symbols);
        var cpus = new SimulatedCpu[options.Cpus];
        for (var i = 0; i < cpus.Length; i++)
        {
            var idle = CreateTaskStruct(0, 0, $"swapper/{i}", i == 0 ? "init_task" : $"idle_task/{i}");
            if (i == 0)
                Symbols.Add(idle.Address, TaskStruct.Size, 'D', "init_task");
            cpus[i] = new SimulatedCpu(this, i, idle, Memory.Allocate($"stack/cpu{i}", SimulatedCpu.ThreadSize));
        }

        Cpus = new CpuSet(this, cpus);
        Printk = new Printk(NowNs, options.PrintkLines);
        _tasks = new Dictionary<int, SimulatedTask> { [0] = cpus[0].Idle };
    }

    /// <summary>Kernel memory (the region table).</summary>
    public KernelMemory Memory { get; }

    /// <summary>kallsyms.</summary>
    public Kallsyms Symbols { get; }

    /// <summary>The simulated kernel text.</summary>
    public KernelFunctions Functions { get; }

    public CpuSet Cpus { get; }

    public Printk Printk { get; }

    /// <summary>The clock: the current CPU's local clock, or the latest of all CPUs outside a CPU.</summary>
    public long NowNs() => Cpus.Current?.ClockNs ?? Cpus.All.Max(c => c.ClockNs);

    /// <summary>Creates a task (pid, tgid, comm) in kernel memory.</summary>
    public SimulatedTask CreateTask(int pid, string comm, int tgid = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        lock (_taskLock)
        {
            if (_tasks.ContainsKey(pid))
                throw new InvalidOperationException($"pid {pid} already exists");
            var task = CreateTaskStruct(pid, tgid == 0 ? pid : tgid, comm, $"task/{pid}");
            _tasks = new Dictionary<int, SimulatedTask>(_tasks) { [pid] = task };
            return task;
        }
    }

    /// <summary>The task with <paramref name="pid"/>, or null.</summary>
    public SimulatedTask? FindTask(int pid) => Volatile.Read(ref _tasks).GetValueOrDefault(pid);

    private SimulatedTask CreateTaskStruct(int pid, int tgid, string comm, string regionName)
    {
        var task = Memory.Allocate<TaskStruct>(regionName);
        task->pid = pid;
        task->tgid = tgid;
        task->SetComm(comm);
        return new SimulatedTask(task);
    }

    public void Dispose() => Memory.Dispose();
}
