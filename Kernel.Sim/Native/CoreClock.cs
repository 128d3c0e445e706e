using System.Diagnostics;
using static Iced.Intel.AssemblerRegisters;

namespace Kernel.Sim.Native;

/// <summary>
/// Reads the time-stamp counter and converts TSC ticks into core cycles. The TSC ticks at a constant nominal rate
/// (<c>constant_tsc</c>), not at the core clock, which turbo, power states and a hypervisor move: so the core clock is
/// measured, by timing a chain of dependent <c>add rax, rdx</c> — one cycle of latency each on every x86-64 core
/// since the P6 — against both the TSC and <see cref="Stopwatch"/>.
/// </summary>
internal sealed unsafe class CoreClock : IDisposable
{
    /// <summary>Dependent adds per iteration of the calibration loop.</summary>
    public const int AddsPerIteration = 64;

    private const int ChainOffset = 0x40;
    private readonly ExecutableMemory _memory;

    public CoreClock()
    {
        _memory = ExecutableMemory.Create(0x1000, patchable: false);
        try
        {
            _memory.Emit(0, a =>
            {
                // lfence first: rdtsc is not ordered after earlier instructions, and the loop's last call must be done.
                a.lfence();
                a.rdtsc();
                a.shl(rdx, 32);
                a.or(rax, rdx);
                a.ret();
            });
            _memory.Emit(ChainOffset, a =>
            {
                // add rax, rdx rather than add rax, 1: Golden Cove and later fold immediate adds in the renamer
                // (a dependent chain of add-immediates retires several per cycle), register adds they cannot fold.
                var top = a.CreateLabel("chain");
                a.xor(eax, eax);
                a.mov(edx, 1);
                a.Label(ref top);
                for (var i = 0; i < AddsPerIteration; i++)
                    a.add(rax, rdx);
                a.dec(rdi);
                a.jnz(top);
                a.ret();
            });
            _memory.Seal(keepWritableAlias: false);
        }
        catch
        {
            _memory.Dispose();
            throw;
        }
    }

    /// <summary>TSC ticks per nanosecond (the nominal TSC frequency in GHz).</summary>
    public double TscGhz { get; private set; }

    /// <summary>Core cycles per nanosecond (the core clock in GHz while the calibration ran).</summary>
    public double CoreGhz { get; private set; }

    /// <summary>Core cycles per TSC tick.</summary>
    public double CyclesPerTick => CoreGhz / TscGhz;

    /// <summary>The serialised time-stamp counter.</summary>
    public ulong ReadTsc() => ((delegate* unmanaged<ulong>)_memory.Executable)();

    /// <summary>Runs <paramref name="iterations"/> × <see cref="AddsPerIteration"/> dependent adds; returns the chain's value.</summary>
    public long RunChain(long iterations) => ((delegate* unmanaged<long, long>)(_memory.Executable + ChainOffset))(iterations);

    /// <summary>
    /// Times the add chain <paramref name="repetitions"/> times for about <paramref name="milliseconds"/> each and
    /// keeps the fastest run: time stolen by the scheduler or the hypervisor only ever makes a run slower.
    /// </summary>
    public void Calibrate(int repetitions = 21, double milliseconds = 2)
    {
        var iterations = 1_000L;
        RunChain(iterations);
        // Grow the chain until one run lasts long enough that timer resolution and call overhead vanish.
        while (true)
        {
            var t0 = Stopwatch.GetTimestamp();
            RunChain(iterations);
            var elapsed = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (elapsed >= milliseconds / 4)
            {
                iterations = (long)(iterations * milliseconds / elapsed);
                break;
            }

            iterations *= 4;
        }

        var bestNs = double.MaxValue;
        var bestTicks = 0.0;
        for (var r = 0; r < repetitions; r++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var c0 = ReadTsc();
            var value = RunChain(iterations);
            var c1 = ReadTsc();
            var t1 = Stopwatch.GetTimestamp();
            if (value != iterations * AddsPerIteration)
                throw new InvalidOperationException($"calibration chain returned {value}, expected {iterations * AddsPerIteration}");
            var ns = (t1 - t0) * 1e9 / Stopwatch.Frequency;
            if (ns < bestNs)
            {
                bestNs = ns;
                bestTicks = c1 - c0;
            }
        }

        TscGhz = bestTicks / bestNs;
        CoreGhz = iterations * (double)AddsPerIteration / bestNs;
    }


    public void Dispose() => _memory.Dispose();
}
