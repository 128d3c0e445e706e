using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;

namespace Kernel.Sim.Bpf;

/// <summary>
/// The eBPF subsystem of one kernel: its helper registry, the memory regions programs may touch beyond their
/// stack and input, its maps (fd table) and the engines that load programs. Later issues register helpers and
/// regions here (probes, packets); nothing is static, so two kernels never share a registry or a map.
/// </summary>
public sealed class BpfSubsystem : IDisposable
{
    private readonly Dictionary<string, HelperRegistry> _helpersByType = new(StringComparer.Ordinal);

    public BpfSubsystem(IServiceProvider? services = null, int cpus = 1)
    {
        Regions = new MemoryRegionTable();
        Helpers = new HelperRegistry();
        Maps = new BpfMapRegistry(Regions, cpus);
        HelperContext = new HelperContext(Regions, services) { Maps = Maps };
    }

    /// <summary>Helper id -> implementation for programs created with <see cref="CreateInterpreter"/>.</summary>
    public HelperRegistry Helpers { get; }

    /// <summary>Map values, packets and other memory programs may touch.</summary>
    public MemoryRegionTable Regions { get; }

    /// <summary>The maps and program fds of this kernel.</summary>
    public BpfMapRegistry Maps { get; }

    /// <summary>What helpers receive on CPU 0 (one run at a time; other CPUs use <see cref="CreateHelperContext"/>).</summary>
    public HelperContext HelperContext { get; }

    /// <summary>Options for interpreters created by <see cref="CreateInterpreter"/>.</summary>
    public BpfInterpreterOptions InterpreterOptions { get; } = new();

    /// <summary>A helper context for <paramref name="cpu"/> sharing this kernel's regions, maps and trace sink.</summary>
    public HelperContext CreateHelperContext(int cpu) => HelperContext.ForCpu(cpu);

    /// <summary>The Linux helpers a program of <paramref name="type"/> may call (one registry per type, made once).</summary>
    public HelperRegistry HelpersFor(ProgramType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        lock (_helpersByType)
        {
            if (!_helpersByType.TryGetValue(type.Name, out var registry))
                _helpersByType[type.Name] = registry = LinuxHelpers.CreateRegistry(type);
            return registry;
        }
    }

    /// <summary>Validates <paramref name="program"/> and loads it into an interpreter bound to this kernel's helpers and regions.</summary>
    public BpfInterpreter CreateInterpreter(ReadOnlySpan<Instruction> program) =>
        new(program, Helpers, HelperContext, InterpreterOptions);

    /// <summary>
    /// BPF_PROG_LOAD for the interpreter: resolves the program's map references (lddw src 1, 2, 5, 6, with
    /// <paramref name="fdArray"/> for 5 and 6) against this kernel's maps, binds the helpers of
    /// <paramref name="type"/> and <paramref name="context"/> (CPU 0's by default), and gives the program an fd so
    /// prog arrays can hold it. Throws <see cref="MapReferenceException"/> or <see cref="BpfDecodeException"/>.
    /// </summary>
    public BpfInterpreter Load(ReadOnlySpan<Instruction> program, ProgramType type, string name = "",
        HelperContext? context = null, ReadOnlySpan<int> fdArray = default)
    {
        var code = program.ToArray();
        MapReferences.Resolve(code, Maps, fdArray);
        var interpreter = new BpfInterpreter(code, HelpersFor(type), context ?? HelperContext, InterpreterOptions) { Name = name };
        ProgramFd(interpreter);
        return interpreter;
    }

    /// <summary>The fd of a program loaded with <see cref="Load"/>.</summary>
    public int ProgramFd(IBpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        lock (_programFds)
        {
            if (!_programFds.TryGetValue(program, out var fd))
                _programFds[program] = fd = Maps.RegisterProgram(program);
            return fd;
        }
    }

    private readonly Dictionary<IBpfProgram, int> _programFds = new(ReferenceEqualityComparer.Instance);

    /// <summary>Closes every map (frees their native storage).</summary>
    public void Dispose() => Maps.Dispose();
}
