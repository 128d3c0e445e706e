using System.Text;

namespace Kernel.Sim.Core.Workloads;

/// <summary>
/// A mini system-call path in task context: <c>__x64_sys_getpid → __task_pid_nr_ns → pid_nr_ns</c> and
/// <c>__x64_sys_write → ksys_write → vfs_write → rw_verify_area, __fsnotify_parent</c>, plus a notrace
/// <c>native_sched_clock</c>. Arguments are real kernel-memory pointers (pt_regs, task_struct, the write buffer).
/// </summary>
public sealed unsafe class SyscallWorkload : IKernelWorkload
{
    /// <summary>pid of the task the syscalls run in.</summary>
    public const int Pid = 1000;

    private KernelCore? _core;
    private SimulatedTask? _task;
    private KernelFunction? _getpid, _taskPidNrNs, _pidNrNs, _sysWrite, _ksysWrite, _vfsWrite, _rwVerifyArea, _fsnotifyParent, _schedClock;
    private PtRegs* _userRegs;
    private ulong _buffer;
    private ulong _syscallReturn;

    public string Name => "syscall";

    public string Description => "getpid() and write() through a mini system-call path (task context)";

    public void Install(KernelCore core)
    {
        ArgumentNullException.ThrowIfNull(core);
        _core = core;
        _task = core.CreateTask(Pid, "kernelsim");
        _userRegs = core.Memory.Allocate<PtRegs>("syscall/user_regs");
        var buffer = core.Memory.Allocate("syscall/buffer", 64);
        Encoding.ASCII.GetBytes("hello, tracing\n", new Span<byte>((void*)buffer.Start, 64));
        _buffer = buffer.Start;
        // The caller of every __x64_sys_* is do_syscall_64 (x64_sys_call inlined): a text symbol, not hooked.
        _syscallReturn = core.Symbols.AddText("do_syscall_64", 0x110).Address + 0x73;
        var f = core.Functions;
        _schedClock = f.Define("u64 native_sched_clock(void)", (ref PtRegs r) => (ulong)Cpu.ClockNs, 0x40, notrace: true);
        _pidNrNs = f.Define("pid_t pid_nr_ns(struct pid *pid, struct pid_namespace *ns)", (ref PtRegs r) =>
        {
            Cpu.Advance(12);
            return (ulong)((TaskStruct*)r.di)->tgid;
        }, 0x50);
        _taskPidNrNs = f.Define("pid_t __task_pid_nr_ns(struct task_struct *task, enum pid_type type, struct pid_namespace *ns)", (ref PtRegs r) =>
        {
            Cpu.Advance(20);
            return _pidNrNs.Call(_taskPidNrNs!.At(0x2b), r.di, r.dx);
        }, 0xb0);
        _getpid = f.Define("long __x64_sys_getpid(const struct pt_regs *regs)", (ref PtRegs r) =>
        {
            Cpu.Advance(30);
            return _taskPidNrNs.Call(_getpid!.At(0x16), Cpu.CurrentTask.Address, 1 /* PIDTYPE_TGID */, 0);
        }, 0x30);
        _rwVerifyArea = f.Define("int rw_verify_area(int read_write, struct file *file, const loff_t *ppos, size_t count)", (ref PtRegs r) =>
        {
            Cpu.Advance(25);
            return (long)r.cx < 0 ? unchecked((ulong)-Errno.EINVAL) : 0;
        }, 0x90);
        _fsnotifyParent = f.Define("int __fsnotify_parent(struct dentry *dentry, __u32 mask, const void *data, int data_type)", (ref PtRegs r) =>
        {
            Cpu.Advance(40);
            return 0;
        }, 0x1e0);
        _vfsWrite = f.Define("ssize_t vfs_write(struct file *file, const char *buf, size_t count, loff_t *pos)", (ref PtRegs r) =>
        {
            Cpu.Advance(60);
            var ret = _rwVerifyArea.Call(_vfsWrite!.At(0x4d), 1 /* WRITE */, r.di, r.cx, r.dx);
            if (ret != 0)
                return ret;
            _schedClock.Call(_vfsWrite.At(0x70));
            _fsnotifyParent.Call(_vfsWrite.At(0x9a), 0, 0x2 /* FS_MODIFY */, r.di, 1);
            return r.dx;
        }, 0x2a0);
        _ksysWrite = f.Define("ssize_t ksys_write(unsigned int fd, const char *buf, size_t count)", (ref PtRegs r) =>
        {
            Cpu.Advance(35);
            return _vfsWrite.Call(_ksysWrite!.At(0x5f), 0, r.si, r.dx, 0);
        }, 0xe0);
        _sysWrite = f.Define("long __x64_sys_write(const struct pt_regs *regs)", (ref PtRegs r) =>
        {
            Cpu.Advance(30);
            var user = (PtRegs*)r.di;
            return _ksysWrite.Call(_sysWrite!.At(0x1a), user->di, user->si, user->dx);
        }, 0x30);
    }

    private SimulatedCpu Cpu => _core!.Cpus.RequireCurrent();

    /// <summary>The top-level functions (entry points of the tree).</summary>
    public KernelFunction GetPid => _getpid ?? throw new InvalidOperationException("workload not installed");

    public void Run(SimulatedCpu cpu, int iterations)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        var previous = cpu.CurrentTask;
        cpu.CurrentTask = _task!;
        try
        {
            for (var i = 0; i < iterations; i++)
            {
                cpu.Advance(1000);
                _getpid!.Call(_syscallReturn, (ulong)_userRegs);
                _userRegs->di = 1;
                _userRegs->si = _buffer;
                _userRegs->dx = 15;
                _sysWrite!.Call(_syscallReturn, (ulong)_userRegs);
            }
        }
        finally
        {
            cpu.CurrentTask = previous;
        }
    }
}
