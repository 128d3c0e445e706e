using System.Runtime.InteropServices;
using System.Text;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Verifier;

namespace Kernel.Sim.Bench.Cli.Bpf;

/// <summary>The host kernel's verdict on a program: loaded (and closed at once), refused, or not asked.</summary>
public sealed record HostVerdict(bool Available, bool Accepted, int Errno, string Log, string? Note);

/// <summary>
/// Loads a program into the running Linux kernel with bpf(2) BPF_PROG_LOAD to compare verdicts and logs.
/// Maps the program references are created with BPF_MAP_CREATE and their fds patched into the lddw
/// instructions. Nothing is ever attached: every fd is closed right after the load.
/// </summary>
public static unsafe partial class HostBpf
{
    private const long SysBpf = 321; // x86-64
    private const int BpfMapCreate = 0;
    private const int BpfProgLoad = 5;
    private const int LogSize = 16 << 20;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long cmd, void* attr, long size);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>Asks the host; never throws for a refusal (EPERM, no bpf, not Linux): the verdict says so.</summary>
    public static HostVerdict Load(Instruction[] program, VerifierOptions options, int logLevel) =>
        LoadAt(program, options, logLevel == 0 ? 1 : logLevel);

    /// <summary>
    /// As <see cref="Load"/> with the log off (log_level 0, no buffer), as a loader that wants only the verdict
    /// asks: what the verifier benchmarks time against KernelSim's log-less verification.
    /// </summary>
    public static HostVerdict LoadWithoutLog(Instruction[] program, VerifierOptions options) => LoadAt(program, options, 0);

    private static HostVerdict LoadAt(Instruction[] program, VerifierOptions options, int logLevel)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return new HostVerdict(false, false, 0, string.Empty, "the host oracle needs Linux on x86-64");
        if (options.ProgramType.LinuxType == 0)
            return new HostVerdict(false, false, 0, string.Empty, "program type 'raw' is KernelSim's own; Linux has no equivalent");
        var fds = new List<int>();
        try
        {
            var patched = (Instruction[])program.Clone();
            for (var i = 0; i < options.Maps.Count; i++)
            {
                var m = options.Maps[i];
                var fd = CreateMap((int)m.Type, m.KeySize, m.ValueSize, m.MaxEntries, out var errno);
                if (fd < 0)
                    return new HostVerdict(false, false, errno, string.Empty, $"BPF_MAP_CREATE for map {i} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
                fds.Add(fd);
            }

            for (var i = 0; i + 1 < patched.Length; i++)
            {
                var insn = patched[i];
                if (insn.Opcode != Opcodes.LdImm64)
                    continue;
                if (insn.Src is Opcodes.BPF_PSEUDO_MAP_IDX or Opcodes.BPF_PSEUDO_MAP_FD && insn.Imm >= 0 && insn.Imm < fds.Count)
                    patched[i] = new Instruction(insn.Opcode, insn.Dst, Opcodes.BPF_PSEUDO_MAP_FD, 0, fds[insn.Imm]);
                i++;
            }

            return LoadProgram(patched, options.ProgramType.LinuxType, logLevel);
        }
        finally
        {
            foreach (var fd in fds)
                Close(fd);
        }
    }

    private static int CreateMap(int type, int keySize, int valueSize, int maxEntries, out int errno)
    {
        var attr = stackalloc byte[128];
        new Span<byte>(attr, 128).Clear();
        ((uint*)attr)[0] = (uint)type;
        ((uint*)attr)[1] = (uint)keySize;
        ((uint*)attr)[2] = (uint)valueSize;
        ((uint*)attr)[3] = (uint)maxEntries;
        var fd = Syscall(SysBpf, BpfMapCreate, attr, 128);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return (int)fd;
    }

    private static HostVerdict LoadProgram(Instruction[] program, int progType, int logLevel)
    {
        var code = Instruction.WriteAll(program);
        var license = "GPL\0"u8.ToArray();
        // Linux refuses a log buffer with log_level 0 (EINVAL): no log, no buffer.
        var logBuf = new byte[logLevel == 0 ? 1 : LogSize];
        fixed (byte* codePtr = code)
        fixed (byte* licensePtr = license)
        fixed (byte* logPtr = logBuf)
        {
            // union bpf_attr, BPF_PROG_LOAD: prog_type u32, insn_cnt u32, insns u64, license u64,
            // log_level u32, log_size u32, log_buf u64, kern_version u32, prog_flags u32, ...
            var attr = stackalloc byte[160];
            new Span<byte>(attr, 160).Clear();
            *(uint*)(attr + 0) = (uint)progType;
            *(uint*)(attr + 4) = (uint)program.Length;
            *(ulong*)(attr + 8) = (ulong)codePtr;
            *(ulong*)(attr + 16) = (ulong)licensePtr;
            if (logLevel > 0)
            {
                *(uint*)(attr + 24) = (uint)logLevel;
                *(uint*)(attr + 28) = LogSize;
                *(ulong*)(attr + 32) = (ulong)logPtr;
            }

            var fd = Syscall(SysBpf, BpfProgLoad, attr, 160);
            var errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            var len = Array.IndexOf(logBuf, (byte)0);
            var log = Encoding.UTF8.GetString(logBuf, 0, len < 0 ? logBuf.Length : len);
            if (fd >= 0)
            {
                Close((int)fd);
                return new HostVerdict(true, true, 0, log, null);
            }

            if (errno is 1 /* EPERM */ or 38 /* ENOSYS */)
                return new HostVerdict(false, false, errno, log, $"the host refused to load BPF programs (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}); run as root or with CAP_BPF");
            return new HostVerdict(true, false, errno, log, null);
        }
    }
}
