using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Core;
using Kernel.Sim.Tracing.ProbeEvents;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>
/// A probe event's fetch arguments (and, when it compiles, its filter) as one verified, JIT-compiled kprobe program
/// with its per-CPU record buffer. <see cref="Record"/> runs it on the hitting CPU and hands back the entry.
/// </summary>
public sealed unsafe class BpfFetchProgram : IDisposable
{
    private readonly BpfMap _buffer;
    private readonly BpfMapRegistry _maps;
    private readonly byte*[] _values;

    private BpfFetchProgram(BpfMapRegistry maps, ProbeEvent probeEvent, EventFilter? filter, BpfMap buffer, FetchRecordLayout layout, LoadedBpfProgram program)
    {
        _maps = maps;
        Event = probeEvent;
        Filter = filter;
        _buffer = buffer;
        Layout = layout;
        Program = program;
        _values = new byte*[buffer.Cpus];
        var key = 0;
        for (var cpu = 0; cpu < _values.Length; cpu++)
            _values[cpu] = buffer.Lookup((byte*)&key, cpu);
    }

    public ProbeEvent Event { get; }

    /// <summary>The filter compiled into the program (null: none, or one the interpreter evaluates).</summary>
    public EventFilter? Filter { get; }

    public FetchRecordLayout Layout { get; }

    /// <summary>The loaded program: its instructions, disassembly and verifier log.</summary>
    public LoadedBpfProgram Program { get; }

    /// <summary>
    /// Generates, verifies and compiles the program of <paramref name="probeEvent"/>; the filter is compiled in when
    /// <see cref="FilterCompiler.CanCompile"/> says so. Throws <see cref="BpfLoadException"/> if the verifier refuses.
    /// </summary>
    public static BpfFetchProgram Create(TracingBpf bpf, ProbeEvent probeEvent, EventFilter? filter)
    {
        ArgumentNullException.ThrowIfNull(bpf);
        ArgumentNullException.ThrowIfNull(probeEvent);
        var layout = FetchRecordLayout.For(probeEvent.FixedSize);
        var compiledFilter = filter is not null && FilterCompiler.CanCompile(filter) ? filter : null;
        var buffer = bpf.Subsystem.Maps.Create(new MapDefinition(BpfMapType.PercpuArray, 4, layout.ValueSize, 1, $"{probeEvent.Name}_buf"));
        try
        {
            var code = FetchProgramCompiler.Compile(probeEvent, buffer.Fd, layout, compiledFilter);
            var program = bpf.Load(code, bpf.Types.Get("kprobe"), [buffer], $"{probeEvent.Group}_{probeEvent.Name}");
            return new BpfFetchProgram(bpf.Subsystem.Maps, probeEvent, compiledFilter, buffer, layout, program);
        }
        catch
        {
            bpf.Subsystem.Maps.Close(buffer.Fd);
            throw;
        }
    }

    /// <summary>
    /// Runs the program for a hit on <paramref name="cpu"/>; returns the entry (empty when the compiled filter dropped
    /// it). The span points into the CPU's buffer: valid until that CPU's next hit.
    /// </summary>
    public ReadOnlySpan<byte> Record(int cpu, ref PtRegs regs, ulong returnIp, ulong* entryArguments)
    {
        var value = _values[cpu];
        if (Event.IsReturn)
        {
            var tail = (ulong*)(value + Layout.TailOffset);
            tail[0] = returnIp;
            for (var i = 0; i < 6; i++)
                tail[1 + i] = entryArguments != null ? entryArguments[i] : regs.Argument(i);
        }

        ulong length;
        fixed (PtRegs* pointer = &regs)
            length = Program.Run(cpu, pointer, KprobeProgramType.PtRegsSize);
        return new ReadOnlySpan<byte>(value, (int)length);
    }

    /// <summary>Closes the record buffer (call only once no CPU can run the program).</summary>
    public void Dispose() => _maps.Close(_buffer.Fd);
}
