using System.Text;
using Kernel.Sim.Tracing.ProbeEvents;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Tracing.Bpf;

/// <summary>
/// Compiles an event filter (the kernel's grammar, as <see cref="EventFilter"/> parses it) into BPF branches over the
/// record: numeric predicates load the field (sign-extending signed ones) and compare with the type's signedness,
/// <c>common_pid</c> comes from bpf_get_current_pid_tgid, <c>&amp;&amp;</c>/<c>||</c>/<c>!</c> become short-circuit
/// jumps, string <c>==</c>/<c>!=</c> and the globs Linux's filter_parse_regex classifies (full, <c>abc*</c>,
/// <c>*abc</c>, <c>*abc*</c>, with <c>?</c> inside) become unrolled byte compares. Globs with classes, escapes or an
/// inner <c>*</c> are refused (<see cref="NotSupportedException"/>): the interpreter keeps filtering those events.
/// </summary>
public static class FilterCompiler
{
    /// <summary>Longest string field text the compiled compares consider (StoreString.MaxLength - 1).</summary>
    public const int MaxText = StoreString.MaxLength - 1;

    /// <summary>True when <paramref name="filter"/> can be compiled.</summary>
    public static bool CanCompile(EventFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Supported(filter.Root);
    }

    private static bool Supported(EventFilter.Node node) => node switch
    {
        EventFilter.And a => Supported(a.Left) && Supported(a.Right),
        EventFilter.Or o => Supported(o.Left) && Supported(o.Right),
        EventFilter.Not n => Supported(n.Inner),
        EventFilter.StringPredicate s => s.Op != "~" ? s.Value.Length <= MaxText : Classify(s.Value) is not null,
        _ => true,
    };

    /// <summary>Emits code that jumps to <paramref name="pass"/> or <paramref name="fail"/>; <paramref name="record"/> holds the entry.</summary>
    public static void Emit(BpfCodeBuilder b, EventFilter filter, byte record, FetchRecordLayout layout, BpfLabel pass, BpfLabel fail)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(filter);
        if (!CanCompile(filter))
            throw new NotSupportedException($"filter '{filter.Text}' has a glob KernelSim does not compile to BPF");
        EmitNode(b, filter.Root, record, layout, pass, fail);
    }

    private static void EmitNode(BpfCodeBuilder b, EventFilter.Node node, byte rec, FetchRecordLayout layout, BpfLabel pass, BpfLabel fail)
    {
        switch (node)
        {
            case EventFilter.And and:
            {
                var right = b.NewLabel();
                EmitNode(b, and.Left, rec, layout, right, fail);
                b.Bind(right);
                EmitNode(b, and.Right, rec, layout, pass, fail);
                break;
            }

            case EventFilter.Or or:
            {
                var right = b.NewLabel();
                EmitNode(b, or.Left, rec, layout, pass, right);
                b.Bind(right);
                EmitNode(b, or.Right, rec, layout, pass, fail);
                break;
            }

            case EventFilter.Not not:
                EmitNode(b, not.Inner, rec, layout, fail, pass);
                break;
            case EventFilter.NumericPredicate numeric:
                EmitNumeric(b, numeric, rec, pass, fail);
                break;
            case EventFilter.StringPredicate text:
                if (text.Op == "!=")
                    EmitString(b, text, rec, layout, fail, pass);
                else
                    EmitString(b, text, rec, layout, pass, fail);
                break;
            default:
                throw new NotSupportedException(node.GetType().Name);
        }
    }

    private static void EmitNumeric(BpfCodeBuilder b, EventFilter.NumericPredicate p, byte rec, BpfLabel pass, BpfLabel fail)
    {
        if (p.IsPid)
        {
            b.Call(14);
            b.MovReg(1, 0);
            b.Alu(BPF_LSH, 1, 32);
            b.Alu(BPF_ARSH, 1, 32);
        }
        else
        {
            b.Load(FetchProgramCompiler.SizeCode(p.Size), 1, rec, p.Offset);
            if (p.Signed && p.Size < 8)
            {
                b.Alu(BPF_LSH, 1, 64 - (8 * p.Size));
                b.Alu(BPF_ARSH, 1, 64 - (8 * p.Size));
            }
        }

        b.LoadImm64(2, (ulong)p.Value);
        var unsignedCompare = !p.Signed && !p.IsPid;
        if (p.Op == "&")
        {
            b.AluReg(BPF_AND, 1, 2);
            b.JumpIf(BPF_JNE, 1, 0, pass);
            b.Jump(fail);
            return;
        }

        var op = p.Op switch
        {
            "==" => BPF_JEQ,
            "!=" => BPF_JNE,
            "<" => unsignedCompare ? BPF_JLT : BPF_JSLT,
            "<=" => unsignedCompare ? BPF_JLE : BPF_JSLE,
            ">" => unsignedCompare ? BPF_JGT : BPF_JSGT,
            _ => unsignedCompare ? BPF_JGE : BPF_JSGE,
        };
        b.JumpIfReg(op, 1, 2, pass);
        b.Jump(fail);
    }

    private enum Shape
    {
        Full,
        Prefix,
        Suffix,
        Contains,
    }

    /// <summary>filter_parse_regex's classes (with <c>?</c> kept as a one-byte wildcard); null for anything else.</summary>
    private static (Shape Shape, string Body)? Classify(string pattern)
    {
        var lead = pattern.StartsWith('*');
        var trail = pattern.Length > (lead ? 1 : 0) && pattern.EndsWith('*');
        var body = pattern[(lead ? 1 : 0)..(pattern.Length - (trail ? 1 : 0))];
        if (body.IndexOfAny(['*', '[', '\\']) >= 0 || body.Length > MaxText)
            return null;
        return (lead, trail) switch
        {
            (false, false) => (Shape.Full, body),
            (false, true) => (Shape.Prefix, body),
            (true, false) => (Shape.Suffix, body),
            _ => (Shape.Contains, body),
        };
    }

    private static void EmitString(BpfCodeBuilder b, EventFilter.StringPredicate p, byte rec, FetchRecordLayout layout, BpfLabel match, BpfLabel noMatch)
    {
        var (shape, body) = p.Op == "~" ? Classify(p.Value)!.Value : (Shape.Full, p.Value);
        // A glob's '?' matches any byte; == compares literally.
        var wildcard = p.Op == "~";
        var bytes = Encoding.ASCII.GetBytes(body);
        var n = bytes.Length;

        // r2 = __data_loc length (text length + 1, or 0 when the fetch faulted), r1 = start.
        b.Load(BPF_W, 1, rec, p.Offset);
        b.MovReg(2, 1);
        b.Alu(BPF_RSH, 2, 16);
        b.Alu(BPF_AND, 1, 0xffff);
        // Never taken for entries this program built; bounds both for the verifier.
        b.JumpIf(BPF_JGT, 1, layout.End, noMatch);
        b.JumpIf(BPF_JGT, 2, StoreString.MaxLength, noMatch);
        if (n == 0 && shape != Shape.Full)
        {
            b.Jump(match); // "*", "abc*" with an empty body...: everything matches
            return;
        }

        if (n == 0)
        {
            b.JumpIf(BPF_JLE, 2, 1, match);
            b.Jump(noMatch);
            return;
        }

        b.AluReg(BPF_ADD, 1, rec); // r1 = text
        switch (shape)
        {
            case Shape.Full:
                b.JumpIf(BPF_JNE, 2, n + 1, noMatch);
                EmitCompare(b, bytes, wildcard, 0, noMatch);
                b.Jump(match);
                break;
            case Shape.Prefix:
                b.JumpIf(BPF_JLT, 2, n + 1, noMatch);
                EmitCompare(b, bytes, wildcard, 0, noMatch);
                b.Jump(match);
                break;
            case Shape.Suffix:
                b.JumpIf(BPF_JLT, 2, n + 1, noMatch);
                b.AluReg(BPF_ADD, 1, 2);
                b.Add(1, -(n + 1)); // text + (len - 1) - n
                EmitCompare(b, bytes, wildcard, 0, noMatch);
                b.Jump(match);
                break;
            default:
                // Every start k with k + n <= len - 1, unrolled (bounded by the longest stored string).
                for (var k = 0; k + n <= MaxText; k++)
                {
                    var next = b.NewLabel();
                    b.JumpIf(BPF_JLT, 2, k + n + 1, noMatch);
                    EmitCompare(b, bytes, wildcard, k, next);
                    b.Jump(match);
                    b.Bind(next);
                }

                b.Jump(noMatch);
                break;
        }
    }

    private static void EmitCompare(BpfCodeBuilder b, byte[] bytes, bool wildcard, int at, BpfLabel mismatch)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (wildcard && bytes[i] == '?')
                continue;
            b.Load(BPF_B, 3, 1, at + i);
            b.JumpIf(BPF_JNE, 3, bytes[i], mismatch);
        }
    }
}
