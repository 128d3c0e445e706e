using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Kernel.Sim.Bpf;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Bench.Benchmarks;

/// <summary>
/// Map operations as programs reach them: the program-side map API (what a JIT'd helper call ends in), the helper
/// entry points (map pointer check, key check, per-CPU id), and one interpreted program doing a lookup and an
/// atomic add. Every benchmark performs <see cref="Ops"/> operations per invocation (OperationsPerInvoke), so the
/// mean is nanoseconds per operation; none may allocate. <see cref="Setup"/> checks that every operation succeeds,
/// so a figure never comes from a failing path.
/// </summary>
[MemoryDiagnoser]
public unsafe class MapBenchmarks
{
    /// <summary>Operations per invocation.</summary>
    public const int Ops = 1024;

    private BpfSubsystem _bpf = null!;
    private ArrayMap _array = null!;
    private ArrayMap _percpuArray = null!;
    private HashMap _hash = null!;
    private HashMap _percpuHash = null!;
    private HashMap _lru = null!;
    private RingBufMap _ring = null!;
    private HelperContext _context = null!;
    private BpfInterpreter _counter = null!;
    private ulong* _keys;
    private ulong* _values;
    private ulong _lruNext;
    private static readonly Action<ReadOnlySpan<byte>> Discard = static _ => { };

    [GlobalSetup]
    public void Setup()
    {
        _bpf = new BpfSubsystem(cpus: 4);
        _array = (ArrayMap)_bpf.Maps.Create(new MapDefinition(BpfMapType.Array, 4, 8, Ops, "array"));
        _percpuArray = (ArrayMap)_bpf.Maps.Create(new MapDefinition(BpfMapType.PercpuArray, 4, 8, Ops, "percpu_array"));
        _hash = (HashMap)_bpf.Maps.Create(new MapDefinition(BpfMapType.Hash, 8, 8, Ops, "hash"));
        _percpuHash = (HashMap)_bpf.Maps.Create(new MapDefinition(BpfMapType.PercpuHash, 8, 8, Ops, "percpu_hash"));
        _lru = (HashMap)_bpf.Maps.Create(new MapDefinition(BpfMapType.LruHash, 8, 8, Ops / 2, "lru"));
        _ring = (RingBufMap)_bpf.Maps.Create(new MapDefinition(BpfMapType.Ringbuf, 0, 0, 256 * 1024, "rb"));
        _context = _bpf.CreateHelperContext(2);
        _keys = (ulong*)NativeMemory.AllocZeroed(Ops, sizeof(ulong));
        _values = (ulong*)NativeMemory.AllocZeroed(Ops, sizeof(ulong));
        for (var i = 0; i < Ops; i++)
        {
            _keys[i] = (ulong)i * 0x9E3779B1;
            _values[i] = (ulong)i;
            Check(_hash.Update((byte*)&_keys[i], (byte*)&_values[i], 0, 0) == 0, "hash insert");
            Check(_percpuHash.Update((byte*)&_keys[i], (byte*)&_values[i], 0, 1) == 0, "percpu hash insert");
        }

        _counter = _bpf.Load(LlvmAssembler.Assemble($"""
            r1 = 7
            *(u32 *)(r10 - 4) = r1
            r2 = r10
            r2 += -4
            ld_pseudo r1, 1, {_array.Fd}
            call 1
            if r0 == 0 goto +3
            r1 = 1
            lock *(u64 *)(r0 + 0) += r1
            r0 = 1
            exit
            """), new KprobeProgramType(), "counter", _context);
        Check(_counter.Run(new byte[8]).ThrowIfFailed() == 1, "counter program");
        Check(ArrayLookup() != 0 && HashLookup() != 0 && PercpuArrayLookup() != 0 && HelperHashLookup() != 0, "lookups");
        Check(HashUpdate() == 0 && PercpuHashUpdate() == 0 && LruHashUpdate() == 0, "updates");
        Check(RingbufReserveSubmit() == Ops && _ring.Dropped == 0, "ringbuf");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.Free(_keys);
        NativeMemory.Free(_values);
        _bpf.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong ArrayLookup()
    {
        ulong sum = 0;
        for (uint i = 0; i < Ops; i++)
            sum += (ulong)_array.Lookup((byte*)&i, 0);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong PercpuArrayLookup()
    {
        ulong sum = 0;
        for (uint i = 0; i < Ops; i++)
            sum += (ulong)_percpuArray.Lookup((byte*)&i, (int)(i & 3));
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong HashLookup()
    {
        ulong found = 0;
        for (var i = 0; i < Ops; i++)
            found += _hash.Lookup((byte*)&_keys[i], 0) != null ? 1UL : 0;
        return found;
    }

    /// <summary>bpf_map_lookup_elem through the helper entry point: map pointer and key checks included.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong HelperHashLookup()
    {
        ulong sum = 0;
        var map = _hash.Pointer;
        for (var i = 0; i < Ops; i++)
            sum += MapHelpers.MapLookupElem(map, (ulong)&_keys[i], 0, 0, 0, _context) != 0 ? 1UL : 0;
        return sum;
    }

    /// <summary>Replacing existing keys (a new element linked, the old one freed).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long HashUpdate()
    {
        long errors = 0;
        for (var i = 0; i < Ops; i++)
            errors |= _hash.Update((byte*)&_keys[i], (byte*)&_values[i], BpfUpdateFlags.BPF_EXIST, 0);
        return errors;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public long PercpuHashUpdate()
    {
        long errors = 0;
        for (var i = 0; i < Ops; i++)
            errors |= _percpuHash.Update((byte*)&_keys[i], (byte*)&_values[i], BpfUpdateFlags.BPF_ANY, i & 3);
        return errors;
    }

    /// <summary>Ever-new keys into an LRU hash half the size: every update evicts.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long LruHashUpdate()
    {
        long errors = 0;
        for (var i = 0; i < Ops; i++)
        {
            var key = _lruNext++;
            errors |= _lru.Update((byte*)&key, (byte*)&_values[i], BpfUpdateFlags.BPF_ANY, 0);
        }

        return errors;
    }

    /// <summary>bpf_ringbuf_reserve + write + bpf_ringbuf_submit of 64-byte records; the consumer drains every 256.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int RingbufReserveSubmit()
    {
        var submitted = 0;
        for (var i = 0; i < Ops; i++)
        {
            var p = _ring.Reserve(64);
            if (p == null)
                continue;
            *(ulong*)p = (ulong)i;
            _ring.Commit(p, 0, discard: false);
            submitted++;
            if ((i & 255) == 255)
                _ring.Consume(Discard);
        }

        _ring.Consume(Discard);
        return submitted;
    }

    /// <summary>One interpreted program run: key on the stack, bpf_map_lookup_elem, atomic add into the value.</summary>
    [Benchmark]
    public ulong InterpretedLookupAndAdd() => _counter.Run(null, 0).R0;

    private static void Check(bool condition, string what)
    {
        if (!condition)
            throw new InvalidOperationException($"map benchmark setup failed: {what}");
    }
}
