using Kernel.Sim.Bpf;
using Kernel.Sim.Bpf.Asm;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Jit;
using Kernel.Sim.Bpf.Maps;
using Kernel.Sim.Bpf.ProgramTypes;
using Kernel.Sim.Bpf.Verifier;
using Kernel.Sim.Core;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>Which engine runs a loaded tracing program.</summary>
public enum BpfEngine
{
    /// <summary>The IL JIT (the default, as Linux with bpf_jit_enable=1).</summary>
    Jit,

    /// <summary>The checked interpreter.</summary>
    Interpreter,
}

/// <summary>A program refused at load: the verifier said no (its log says why).</summary>
public sealed class BpfLoadException(string message, VerifierResult? verdict = null) : Exception(message)
{
    /// <summary>The verifier's verdict and log, when it ran.</summary>
    public VerifierResult? Verdict { get; } = verdict;
}

/// <summary>
/// The BPF side of one kernel's tracing: the BPF subsystem programs load into (maps, regions), the helper registry
/// of each tracing program type (the standard helpers plus the ones that reach kernel memory and the current task),
/// and BPF_PROG_LOAD for tracing programs: verify, resolve maps, then one JIT-compiled copy per CPU (a compiled program
/// runs one invocation at a time, and each CPU has its own helper context).
/// </summary>
public sealed class TracingBpf : IDisposable
{
    private readonly Dictionary<string, HelperRegistry> _registries = new(StringComparer.Ordinal);
    private readonly HelperContext[] _contexts;
    private readonly TracingHelperServices[] _services;

    public TracingBpf(KernelCore core, BpfSubsystem? subsystem = null)
    {
        Core = core ?? throw new ArgumentNullException(nameof(core));
        // The kernel's BPF subsystem when its per-CPU maps have one slot per simulated CPU; otherwise a private one.
        var shared = subsystem is not null && subsystem.Maps.Cpus == core.Cpus.Count;
        Subsystem = shared ? subsystem! : new BpfSubsystem(null, core.Cpus.Count);
        OwnsSubsystem = !shared;
        Types = ProgramTypeRegistry.CreateDefault();
        _services = core.Cpus.All.Select(cpu => new TracingHelperServices(core, cpu)).ToArray();
        _contexts = core.Cpus.All.Select(cpu => new HelperContext(Subsystem.Regions, _services[cpu.Id])
        {
            Maps = Subsystem.Maps,
            Environment = new KernelCpuEnvironment(cpu),
            TraceSink = Subsystem.HelperContext.TraceSink,
        }).ToArray();
    }

    public KernelCore Core { get; }

    /// <summary>Maps, regions and program fds.</summary>
    public BpfSubsystem Subsystem { get; }

    private bool OwnsSubsystem { get; }

    /// <summary>The program types the verifier knows (kprobe, and the tracing types the attach layer registers).</summary>
    public ProgramTypeRegistry Types { get; }

    /// <summary>The engine new programs get.</summary>
    public BpfEngine Engine { get; set; } = BpfEngine.Jit;

    /// <summary>The helper context of CPU <paramref name="cpu"/> (its services carry the per-hit attach state).</summary>
    public HelperContext ContextOf(int cpu) => _contexts[cpu];

    /// <summary>The per-hit attach state of CPU <paramref name="cpu"/> (the services of its helper context, typed).</summary>
    internal TracingHelperServices ServicesOf(int cpu) => _services[cpu];

    /// <summary>The helpers a program of <paramref name="type"/> may call.</summary>
    public HelperRegistry HelpersFor(ProgramType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        lock (_registries)
        {
            if (_registries.TryGetValue(type.Name, out var registry))
                return registry;
            registry = new HelperRegistry();
            if (type.IsTracing)
            {
                // Kernel-memory versions first; LinuxHelpers.Register skips ids already present.
                registry.Register(1, "bpf_map_lookup_elem", typeof(MapHelpers), nameof(MapHelpers.MapLookupElem));
                registry.Register(4, "bpf_probe_read", typeof(TracingHelpers), nameof(TracingHelpers.ProbeReadKernel));
                registry.Register(45, "bpf_probe_read_str", typeof(TracingHelpers), nameof(TracingHelpers.ProbeReadKernelStr));
                registry.Register(113, "bpf_probe_read_kernel", typeof(TracingHelpers), nameof(TracingHelpers.ProbeReadKernel));
                registry.Register(115, "bpf_probe_read_kernel_str", typeof(TracingHelpers), nameof(TracingHelpers.ProbeReadKernelStr));
                registry.Register(35, "bpf_get_current_task", typeof(TracingHelpers), nameof(TracingHelpers.GetCurrentTask));
                registry.Register(173, "bpf_get_func_ip", typeof(TracingHelpers), nameof(TracingHelpers.GetFuncIp));
                registry.Register(174, "bpf_get_attach_cookie", typeof(TracingHelpers), nameof(TracingHelpers.GetAttachCookie));
                registry.Register(58, "bpf_override_return", typeof(TracingHelpers), nameof(TracingHelpers.OverrideReturn));
            }

            LinuxHelpers.Register(registry, type);
            _registries[type.Name] = registry;
            return registry;
        }
    }

    /// <summary>
    /// BPF_PROG_LOAD: verifies <paramref name="code"/> as <paramref name="type"/> (map references as lddw src 1 with
    /// the fds of <paramref name="maps"/>), throws <see cref="BpfLoadException"/> with the log when refused, then
    /// resolves the maps and compiles one copy per CPU.
    /// </summary>
    public LoadedBpfProgram Load(Instruction[] code, ProgramType type, IReadOnlyList<BpfMap> maps, string name = "", int logLevel = 2)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(maps);
        var options = new VerifierOptions
        {
            ProgramType = type,
            LogLevel = logLevel,
            Maps = maps.Select(m => m.Definition).ToList(),
            MapFds = maps.Select((m, i) => (m.Fd, i)).ToDictionary(p => p.Fd, p => p.i),
            MemSize = type.ContextSize,
        };
        var verdict = Kernel.Sim.Bpf.Verifier.Verifier.Verify(code, options);
        if (!verdict.Accepted)
            throw new BpfLoadException($"program {name} refused by the verifier: {verdict.Error}\n{verdict.Log}", verdict);
        return Compile(code, verdict.SanitizeDeadCode(code), type, verdict, HelpersFor(type), name);
    }

    /// <summary>
    /// The per-CPU half of BPF_PROG_LOAD for a program another loader verified (an ELF object's, map references as
    /// fds): resolves the maps and compiles one copy per CPU, each bound to its CPU's helper context, with
    /// <paramref name="helpers"/> (the standard ones of the type for objects, the tracing ones for
    /// <see cref="Load"/>). <see cref="LoadedBpfProgram.Run"/> then runs the hitting CPU's copy, so CPUs never share
    /// a JIT stack, interpreter frames or a helper context.
    /// </summary>
    public LoadedBpfProgram LoadVerified(Instruction[] code, ProgramType type, VerifierResult verdict, HelperRegistry helpers, string name = "") =>
        Compile(code, [.. code], type, verdict, helpers, name);

    private LoadedBpfProgram Compile(Instruction[] code, Instruction[] runnable, ProgramType type, VerifierResult verdict, HelperRegistry helpers, string name)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(verdict);
        ArgumentNullException.ThrowIfNull(helpers);
        MapReferences.Resolve(runnable, Subsystem.Maps);
        var runners = new IBpfRunner[_contexts.Length];
        for (var cpu = 0; cpu < runners.Length; cpu++)
        {
            runners[cpu] = Engine == BpfEngine.Jit
                ? new JitRunner(BpfJit.Compile(runnable, helpers, _contexts[cpu], new BpfJitOptions { Name = name }))
                : new InterpreterRunner(new BpfInterpreter(runnable, helpers, _contexts[cpu], Subsystem.InterpreterOptions) { Name = name });
        }

        return new LoadedBpfProgram(name, type, code, verdict, runners, _services, Engine);
    }

    public void Dispose()
    {
        if (OwnsSubsystem)
            Subsystem.Dispose();
    }
}

/// <summary>One engine's copy of a program for one CPU.</summary>
internal interface IBpfRunner
{
    unsafe ulong Run(void* context, int length);
}

internal sealed unsafe class JitRunner(JittedProgram program) : IBpfRunner
{
    public JittedProgram Program { get; } = program;

    public ulong Run(void* context, int length) => Program.Run((byte*)context, length).ThrowIfFailed();
}

internal sealed unsafe class InterpreterRunner(BpfInterpreter program) : IBpfRunner
{
    public ulong Run(void* context, int length) => program.Run((byte*)context, length).ThrowIfFailed();
}

/// <summary>
/// A verified tracing program, compiled for every CPU: run it on the CPU that hit the hook. <see cref="WithCookie"/>
/// gives the same compiled program bound to an attach cookie (what bpf_get_attach_cookie returns while it runs).
/// </summary>
public sealed class LoadedBpfProgram
{
    private readonly IBpfRunner[] _runners;
    private readonly JittedProgram[]? _jitted;
    private readonly TracingHelperServices[] _services;
    private readonly LoadedBpfProgram? _unbound;

    internal LoadedBpfProgram(string name, ProgramType type, Instruction[] code, VerifierResult verdict, IBpfRunner[] runners, TracingHelperServices[] services, BpfEngine engine)
    {
        Name = name;
        Type = type;
        Instructions = code;
        Verdict = verdict;
        _runners = runners;
        // JIT copies are called directly on the hit path (no interface dispatch per run).
        _jitted = runners.All(r => r is JitRunner) ? runners.Select(r => ((JitRunner)r).Program).ToArray() : null;
        _services = services;
        Engine = engine;
    }

    private LoadedBpfProgram(LoadedBpfProgram program, ulong cookie)
        : this(program.Name, program.Type, (Instruction[])program.Instructions, program.Verdict, program._runners, program._services, program.Engine)
    {
        Cookie = cookie;
        _unbound = program;
    }

    public string Name { get; }

    public ProgramType Type { get; }

    /// <summary>The program as loaded (map references still as fds).</summary>
    public IReadOnlyList<Instruction> Instructions { get; }

    /// <summary>The verifier's verdict and log.</summary>
    public VerifierResult Verdict { get; }

    public BpfEngine Engine { get; }

    /// <summary>The attach cookie (bpf_cookie) runs of this instance see; 0 unless made with <see cref="WithCookie"/>.</summary>
    public ulong Cookie { get; }

    /// <summary>The program as loaded, without a cookie (itself unless made with <see cref="WithCookie"/>).</summary>
    public LoadedBpfProgram Unbound => _unbound ?? this;

    /// <summary>The program as loaded (map references as fds), in LLVM syntax (llvm-objdump -d).</summary>
    public string Disassembly => LlvmDisassembler.Disassemble(Instructions.ToArray());

    /// <summary>
    /// The same compiled program bound to <paramref name="cookie"/> (libbpf's <c>opts.bpf_cookie</c>): attach this
    /// instance where the hook takes a program (a tracepoint) to give that attachment its cookie. Nothing is
    /// recompiled; the instances share their per-CPU copies.
    /// </summary>
    public LoadedBpfProgram WithCookie(ulong cookie) => new(Unbound, cookie);

    /// <summary>Runs on CPU <paramref name="cpu"/> with R1 = <paramref name="context"/>; returns R0.</summary>
    public unsafe ulong Run(int cpu, void* context, int length)
    {
        // One store: the cookie of the attachment now running, as bpf_prog_run_array sets run_ctx.bpf_cookie.
        _services[cpu].AttachCookie = Cookie;
        return _jitted is { } jitted ? jitted[cpu].Run((byte*)context, length).ThrowIfFailed() : _runners[cpu].Run(context, length);
    }
}
