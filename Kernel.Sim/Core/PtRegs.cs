using System.Runtime.InteropServices;

namespace Kernel.Sim.Core;

/// <summary>
/// x86-64 <c>struct pt_regs</c> (arch/x86/include/asm/ptrace.h) with Linux's field order and offsets: r15 at 0 …
/// ss at 160, 168 bytes. Arguments arrive in di, si, dx, cx, r8, r9; the return value is in ax.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct PtRegs
{
    public ulong r15;
    public ulong r14;
    public ulong r13;
    public ulong r12;
    public ulong bp;
    public ulong bx;
    public ulong r11;
    public ulong r10;
    public ulong r9;
    public ulong r8;
    public ulong ax;
    public ulong cx;
    public ulong dx;
    public ulong si;
    public ulong di;
    public ulong orig_ax;
    public ulong ip;
    public ulong cs;
    public ulong flags;
    public ulong sp;
    public ulong ss;

    /// <summary>sizeof(struct pt_regs) on x86-64.</summary>
    public const int Size = 168;

    /// <summary>regs_get_kernel_argument: argument N (0-based) of the System V calling convention, 0 past the sixth.</summary>
    public readonly ulong Argument(int n) => n switch
    {
        0 => di,
        1 => si,
        2 => dx,
        3 => cx,
        4 => r8,
        5 => r9,
        _ => 0,
    };

    /// <summary>Offset of a register by its kprobe_events name (<c>di</c>, <c>ax</c>, <c>r8</c>, ...), or -1.</summary>
    public static int OffsetOf(string name) => name switch
    {
        "r15" => 0, "r14" => 8, "r13" => 16, "r12" => 24, "bp" => 32, "bx" => 40, "r11" => 48, "r10" => 56,
        "r9" => 64, "r8" => 72, "ax" => 80, "cx" => 88, "dx" => 96, "si" => 104, "di" => 112, "orig_ax" => 120,
        "ip" => 128, "cs" => 136, "flags" => 144, "sp" => 152, "ss" => 160,
        _ => -1,
    };
}
