using System.Runtime.CompilerServices;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Helpers;

/// <summary>
/// What a helper can reach of the kernel side: the memory regions (so helpers such as probe_read check addresses
/// exactly as the interpreter does), the maps, the environment (current CPU, task, clock), the trace sink and an
/// optional service provider. It also carries the state of the run in progress (the running program's stack and
/// input, the tail-call count), so a context belongs to one CPU: one run at a time. Several CPUs share regions and
/// maps through contexts of their own (<see cref="ForCpu"/>). The engine passes it as the last argument of every
/// helper call.
/// </summary>
public sealed class HelperContext
{
    private ulong _stackLo, _stackLength, _inputLo, _inputLength;
    private ulong _prandom;

    public HelperContext(MemoryRegionTable regions, IServiceProvider? services = null)
    {
        Regions = regions;
        Services = services;
        PrandomSeed = 1;
    }

    /// <summary>Memory beyond the program's stack and input that the program and helpers may touch.</summary>
    public MemoryRegionTable Regions { get; }

    /// <summary>Kernel services for helpers that need them, when composed.</summary>
    public IServiceProvider? Services { get; }

    /// <summary>The maps map helpers resolve map pointers in (null: map helpers fail with -EINVAL / NULL).</summary>
    public BpfMapRegistry? Maps { get; set; }

    /// <summary>Current CPU, task and clock (defaults until the simulated kernel supplies its own).</summary>
    public IHelperEnvironment Environment { get; set; } = new HelperEnvironment();

    /// <summary>Where bpf_trace_printk writes.</summary>
    public ITraceSink TraceSink { get; set; } = new InMemoryTraceSink();

    /// <summary>The seed of bpf_get_prandom_u32's generator (setting it restarts the sequence).</summary>
    public ulong PrandomSeed
    {
        get;
        set
        {
            field = value;
            _prandom = value == 0 ? 0x9E3779B97F4A7C15UL : value;
        }
    }

    /// <summary>Tail calls taken in the current run (bpf_tail_call stops at <see cref="TailCalls.MaxTailCallCount"/>).</summary>
    public int TailCallCount { get; set; }

    /// <summary>The program a bpf_tail_call just chose; the engine jumps to it when the helper returns and clears it.</summary>
    public IBpfProgram? PendingTailCall { get; set; }

    /// <summary>A context for another CPU sharing this one's regions, maps, trace sink and services.</summary>
    public HelperContext ForCpu(int cpu) => new(Regions, Services)
    {
        Maps = Maps,
        TraceSink = TraceSink,
        Environment = new HelperEnvironment { Cpu = cpu },
        PrandomSeed = PrandomSeed + (ulong)cpu,
    };

    /// <summary>Called by an engine as a run starts: the stack and input the program may touch, and a fresh tail-call count.</summary>
    public void BeginRun(ulong stackLo, ulong stackLength, ulong inputLo, ulong inputLength)
    {
        _stackLo = stackLo;
        _stackLength = stackLength;
        _inputLo = inputLo;
        _inputLength = inputLength;
        TailCallCount = 0;
        PendingTailCall = null;
    }

    /// <summary>
    /// True when [address, address + size) lies in the running program's stack, its input or one registered region
    /// (writable for <paramref name="write"/>): what a helper checks before touching memory a program handed it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool CanAccess(ulong address, ulong size, bool write)
    {
        if (size == 0)
            return true;
        var inStack = address - _stackLo;
        if (inStack < _stackLength && _stackLength - inStack >= size)
            return true;
        var inInput = address - _inputLo;
        if (inInput < _inputLength && _inputLength - inInput >= size)
            return true;
        return size <= int.MaxValue && Regions.Allows(address, (int)size, write);
    }

    /// <summary>The next bpf_get_prandom_u32 value (xorshift64*, deterministic from <see cref="PrandomSeed"/>).</summary>
    public uint NextPrandom()
    {
        var x = _prandom;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _prandom = x;
        return (uint)((x * 0x2545F4914F6CDD1DUL) >> 32);
    }
}
