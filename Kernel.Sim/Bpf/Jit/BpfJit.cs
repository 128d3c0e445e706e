using System.Diagnostics;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using Kernel.Sim.Bpf.Helpers;
using Kernel.Sim.Bpf.Interpreter;
using Kernel.Sim.Bpf.Isa;
using Kernel.Sim.Bpf.Maps;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Jit;

/// <summary>Options of <see cref="BpfJit.Compile"/>.</summary>
public sealed class BpfJitOptions
{
    /// <summary>The program's name (for prog arrays and messages).</summary>
    public string Name { get; init; } = "";

    /// <summary>
    /// Zero the frames the program can use before every run, as the interpreter does. Off by default, as in Linux:
    /// a verified program never reads a stack slot it has not written in the same run, so the previous run's bytes
    /// are never seen (and the first run's stack is zero). Set it for unverified programs run more than once whose
    /// results must match the interpreter's (<c>bpf exec --no-verify --repeat</c>).
    /// </summary>
    public bool ZeroStackPerRun { get; init; }

    /// <summary>
    /// Inline bpf-to-bpf calls into the caller's method (on by default; off compiles one method per subprogram, for
    /// comparison). Results are the same either way.
    /// </summary>
    public bool InlineSubprograms { get; init; } = true;
}

/// <summary>A program the JIT cannot translate (one the verifier rejects anyway), with the instruction index.</summary>
public sealed class BpfJitException(string message) : Exception(message);

/// <summary>
/// The eBPF JIT: translates a program to .NET IL, one static method (in a collectible dynamic assembly) for the main program with its
/// bpf-to-bpf calls inlined (a subprogram gets its own method only where a call is not inlined), which RyuJIT then
/// compiles to machine code. Registers are IL locals, the stack a pinned buffer of 8 frames of 512 bytes (R10 of call
/// depth d = top - 512 d), helpers direct <c>call</c>s to the registry's static methods (array map lookups inline, as
/// Linux). The code trusts the verifier: loads and stores are raw <c>ldind</c>/<c>stind</c> on the addresses the
/// registers hold, with no bounds check — run only programs the verifier accepted.
/// </summary>
public static class BpfJit
{
    /// <summary>Validates and compiles <paramref name="program"/>; throws <see cref="BpfDecodeException"/> if malformed, <see cref="BpfJitException"/> if untranslatable.</summary>
    public static JittedProgram Compile(ReadOnlySpan<Instruction> program, HelperRegistry helpers, HelperContext? context = null, BpfJitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(helpers);
        ProgramValidator.Validate(program);
        var started = Stopwatch.GetTimestamp();
        var code = program.ToArray();
        context ??= new HelperContext(new MemoryRegionTable());
        var plan = new JitPlan(code, helpers, options ?? new BpfJitOptions(), context.Maps);
        // The main program's method first; a subprogram gets its own method only when some call site does not inline it.
        var methods = new JitMethods(plan);
        methods.Get(0);
        while (methods.NextToEmit() is { } function)
            new JitFunctionEmitter(plan, methods, function).Emit();
        // A run invokes the main method closed over its run state (the first parameter): a direct call with no argument
        // shuffle. A tail call from another program passes that program's run state: the open form.
        var runtime = new JitRuntime(context);
        var main = methods.Main;
        var run = (JitRun)main.CreateDelegate(typeof(JitRun), runtime);
        var entry = (JitEntry)main.CreateDelegate(typeof(JitEntry));
        var zero = 0;
        if (plan.Options.ZeroStackPerRun)
            zero = plan.SubprogramsUseStack ? JitRuntime.StackBytes : plan.MainUsesStack ? BpfInterpreterOptions.FrameSize : 0;
        return new JittedProgram(run, entry, runtime, code.Length, methods.Count, plan.CallsHelpers, zero, Stopwatch.GetElapsedTime(started))
        {
            Name = options?.Name ?? "",
        };
    }
}

/// <summary>
/// The methods of one program, created on first use (the main program, and every subprogram some call site does not
/// inline): static methods of a type in a collectible dynamic assembly, compiled fully optimised at once
/// (AggressiveOptimization) and unloaded with the program. Ordinary methods rather than DynamicMethods because RyuJIT's
/// loop alignment then holds: the same loops emitted as DynamicMethods ran in one of two speeds depending on where
/// their code landed.
/// </summary>
internal sealed class JitMethods
{
    private static int s_programs;
    private readonly JitPlan _plan;
    private readonly TypeBuilder _type;
    private readonly MethodBuilder?[] _methods;
    private readonly Queue<int> _toEmit = new();
    private Type? _created;

    public JitMethods(JitPlan plan)
    {
        _plan = plan;
        _methods = new MethodBuilder?[plan.Starts.Length];
        var name = $"bpf_prog_{Interlocked.Increment(ref s_programs)}";
        // The IL touches Kernel.Sim's internals (JitRuntime's fields, JitOps) and calls helpers wherever they are
        // declared, private ones included (a registry takes any static method of the right shape).
        var access = typeof(IgnoresAccessChecksToAttribute).GetConstructor([typeof(string)])!;
        var reached = plan.Helpers.All.Select(h => h.Method.DeclaringType!.Assembly).Append(typeof(BpfJit).Assembly).Distinct()
            .Select(a => new CustomAttributeBuilder(access, [a.GetName().Name!]));
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName(name), AssemblyBuilderAccess.RunAndCollect, reached);
        _type = assembly.DefineDynamicModule(name).DefineType("Bpf", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Abstract);
    }

    /// <summary>Methods created so far.</summary>
    public int Count { get; private set; }

    /// <summary>The method of subprogram <paramref name="function"/> (an index into <see cref="JitPlan.Starts"/>), created and queued for emission on first use.</summary>
    public MethodBuilder Get(int function)
    {
        if (_methods[function] is { } method)
            return method;
        method = _type.DefineMethod(Name(function), MethodAttributes.Public | MethodAttributes.Static, typeof(ulong), JitPlan.Parameters);
        method.SetImplementationFlags(MethodImplAttributes.AggressiveOptimization);
        _methods[function] = method;
        _toEmit.Enqueue(function);
        Count++;
        return method;
    }

    /// <summary>The next created method whose IL is still to be emitted, or null.</summary>
    public int? NextToEmit() => _toEmit.Count > 0 ? _toEmit.Dequeue() : null;

    /// <summary>The main program's method, once every method is emitted.</summary>
    public MethodInfo Main => (_created ??= _type.CreateType()).GetMethod(Name(0))!;

    private string Name(int function) => function == 0 ? "bpf_prog" : $"bpf_subprog_{_plan.Starts[function]}";
}

/// <summary>The signature of every emitted method: the run state, r1–r5, the call depth (0 for the main program).</summary>
internal delegate ulong JitEntry(JitRuntime runtime, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, int depth);

/// <summary>The main method closed over its program's run state (<see cref="JitEntry"/> without the first parameter).</summary>
internal delegate ulong JitRun(ulong r1, ulong r2, ulong r3, ulong r4, ulong r5, int depth);

/// <summary>What the emitters of all subprograms share: the code, subprogram boundaries, helpers and options.</summary>
internal sealed class JitPlan
{
    public static readonly Type[] Parameters =
        [typeof(JitRuntime), typeof(ulong), typeof(ulong), typeof(ulong), typeof(ulong), typeof(ulong), typeof(int)];

    public JitPlan(Instruction[] code, HelperRegistry helpers, BpfJitOptions options, BpfMapRegistry? maps)
    {
        Code = code;
        Helpers = helpers;
        Options = options;
        Maps = maps;
        SecondSlot = new bool[code.Length];
        JumpTarget = new bool[code.Length + 1];
        var starts = new SortedSet<int> { 0 };
        for (var i = 0; i < code.Length; i++)
        {
            var insn = code[i];
            if (insn.IsLdImm64 && i + 1 < code.Length)
            {
                SecondSlot[i + 1] = true;
                i++;
                continue;
            }

            if (insn.Opcode == (BPF_JMP | BPF_CALL) && insn.Src == BPF_PSEUDO_CALL)
            {
                var target = (long)i + 1 + insn.Imm;
                if (target >= 0 && target < code.Length)
                    starts.Add((int)target);
            }
            else if (Class(insn.Opcode) is BPF_JMP or BPF_JMP32 && Op(insn.Opcode) is not (BPF_CALL or BPF_EXIT))
            {
                var target = (long)i + 1 + (insn.Opcode == (BPF_JMP32 | BPF_JA) ? insn.Imm : insn.Offset);
                if (target >= 0 && target <= code.Length)
                    JumpTarget[target] = true;
            }

            // Anything that can end the run from inside a callee makes every local call check on return.
            if (insn.Opcode == (BPF_JMP | BPF_CALL) && insn.Src == 0 &&
                helpers.Find(insn.Imm) is not { Flags: HelperFlags.None })
                MayStop = true;
            if (insn.Opcode == (BPF_JMP | BPF_CALL | BPF_X) || (insn.Opcode == (BPF_JMP | BPF_CALL) && insn.Src == BPF_PSEUDO_KFUNC_CALL))
                MayStop = true;
            if (insn.IsLdImm64 && insn.Src != 0)
                MayStop = true;
            if (Class(insn.Opcode) == BPF_LD && Mode(insn.Opcode) is BPF_ABS or BPF_IND)
                MayStop = true;
        }

        // A local call into the second slot of an lddw fails at run time like the interpreter; it starts no subprogram.
        starts.RemoveWhere(s => SecondSlot[s]);
        Starts = [.. starts];
        foreach (var start in Starts)
            JumpTarget[start] = true;
        // Every local call can exceed the frame limit, which also ends the run.
        if (Starts.Length > 1)
            MayStop = true;
        for (var i = 0; i < code.Length; i++)
        {
            if (SecondSlot[i] || (code[i].Dst != 10 && code[i].Src != 10))
                continue;
            if (i < EndOf(0))
                MainUsesStack = true;
            else
                SubprogramsUseStack = true;
        }
    }

    /// <summary>Whether the main program touches R10 (else its frame need not be cleared per run).</summary>
    public bool MainUsesStack { get; }

    /// <summary>
    /// BPF instruction slots one method may hold with its inlined subprograms. Inlining lets RyuJIT allocate
    /// registers across what were calls; past a few thousand instructions RyuJIT compiles a method with minimal
    /// optimisation (its MinOpts thresholds on IL size, blocks and local references), so larger call trees keep calls.
    /// </summary>
    public int InlineBudget => Options.InlineSubprograms ? 4000 : 0;

    /// <summary>
    /// Set by the emitters when they emit a real helper call (not an inlined array lookup): then each run tells the
    /// helper context where its stack and input are.
    /// </summary>
    public bool CallsHelpers { get; set; }

    /// <summary>Whether any subprogram other than the main one touches R10.</summary>
    public bool SubprogramsUseStack { get; }

    public Instruction[] Code { get; }
    public HelperRegistry Helpers { get; }

    /// <summary>The maps of the helper context the program is compiled for (to resolve constant map pointers), or null.</summary>
    public BpfMapRegistry? Maps { get; }

    /// <summary>True at every instruction some jump (or call) can land on, and one past the end.</summary>
    public bool[] JumpTarget { get; }
    public BpfJitOptions Options { get; }

    /// <summary>Subprogram entry indices, ascending; [0] is the main program.</summary>
    public int[] Starts { get; }

    /// <summary>True at the second slot of each lddw.</summary>
    public bool[] SecondSlot { get; }

    /// <summary>Whether any instruction can end the run early (then callers check after each local call).</summary>
    public bool MayStop { get; }

    /// <summary>
    /// The value R<paramref name="reg"/> holds when instruction <paramref name="at"/> runs, when straight-line code
    /// before it (no jump lands in between) set it with an lddw of a plain 64-bit immediate (a resolved map pointer);
    /// otherwise null.
    /// </summary>
    public ulong? ConstantBefore(int at, int reg, int start)
    {
        for (var j = at - 1; j >= start; j--)
        {
            if (JumpTarget[j + 1])
                return null;
            if (SecondSlot[j])
                continue;
            var insn = Code[j];
            var cls = Class(insn.Opcode);
            if (insn.IsLdImm64 && insn.Dst == reg)
                return insn.Src == 0 && j + 1 < Code.Length ? (uint)insn.Imm | ((ulong)(uint)Code[j + 1].Imm << 32) : null;
            // Calls and the legacy packet loads clobber R0–R5; an atomic may write its source register or R0.
            if (cls is BPF_JMP or BPF_JMP32 && Op(insn.Opcode) == BPF_CALL)
                return null;
            if (cls == BPF_LD || (cls == BPF_STX && Mode(insn.Opcode) == BPF_ATOMIC))
                return null;
            if (cls is BPF_ALU or BPF_ALU64 or BPF_LDX && insn.Dst == reg)
                return null;
        }

        return null;
    }

    public int EndOf(int function) => function + 1 < Starts.Length ? Starts[function + 1] : Code.Length;

    public int FunctionAt(int start) => Array.BinarySearch(Starts, start);
}
