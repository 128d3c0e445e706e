using System.Runtime.InteropServices;
using System.Text;

namespace Kernel.Sim.Core;

/// <summary>
/// A <c>task_struct</c>-like C-layout record in kernel memory: the fields tracing reads (pid, tgid, comm). The
/// offsets are KernelSim's own (Linux's depend on the config); <c>vmlinux.h</c> describes this layout.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public unsafe struct TaskStruct
{
    public const int Size = 64;
    public const int CommLength = 16;

    /// <summary>TASK_RUNNING and friends.</summary>
    [FieldOffset(0)] public uint __state;
    [FieldOffset(4)] public int flags;
    [FieldOffset(8)] public int pid;
    [FieldOffset(12)] public int tgid;
    [FieldOffset(16)] public ulong stack;
    [FieldOffset(24)] public fixed byte comm[CommLength];

    /// <summary>The command name as a string (up to the first NUL).</summary>
    public readonly string Comm
    {
        get
        {
            fixed (byte* p = comm)
            {
                var span = new ReadOnlySpan<byte>(p, CommLength);
                var nul = span.IndexOf((byte)0);
                return Encoding.ASCII.GetString(nul >= 0 ? span[..nul] : span);
            }
        }
    }

    /// <summary>Sets comm, truncated to 15 bytes plus NUL as set_task_comm does.</summary>
    public void SetComm(string name)
    {
        fixed (byte* p = comm)
        {
            var span = new Span<byte>(p, CommLength);
            span.Clear();
            Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, CommLength - 1)), span);
        }
    }
}

/// <summary>A simulated task: a <see cref="TaskStruct"/> in kernel memory.</summary>
public sealed unsafe class SimulatedTask
{
    internal SimulatedTask(TaskStruct* task) => Pointer = task;

    /// <summary>The task_struct's address (what <c>current</c> evaluates to).</summary>
    public TaskStruct* Pointer { get; }

    /// <summary>Address of the task_struct.</summary>
    public ulong Address => (ulong)Pointer;

    public int Pid => Pointer->pid;

    public int Tgid => Pointer->tgid;

    public string Comm => Pointer->Comm;
}
