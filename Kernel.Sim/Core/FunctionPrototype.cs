namespace Kernel.Sim.Core;

/// <summary>One parameter of a simulated kernel function: C type and name (BTF-like metadata).</summary>
public sealed record FunctionParameter(string Type, string Name)
{
    /// <summary>Whether the C type is a pointer.</summary>
    public bool IsPointer => Type.EndsWith('*');
}

/// <summary>
/// A simulated function's C prototype, the metadata fentry/fprobe argument names and $retval's type come from.
/// Parsed from C text such as <c>int ip_rcv(struct sk_buff *skb, struct net_device *dev)</c>.
/// </summary>
public sealed record FunctionPrototype(string ReturnType, string Name, IReadOnlyList<FunctionParameter> Parameters)
{
    /// <summary>Linux passes at most six arguments in registers; the simulated ABI has no stack arguments.</summary>
    public const int MaxRegisterArguments = 6;

    /// <summary>Whether the function returns void ($retval is refused).</summary>
    public bool ReturnsVoid => ReturnType == "void";

    /// <summary>Parses <c>RET NAME(TYPE NAME, ...)</c>; <c>(void)</c> or <c>()</c> means no parameters.</summary>
    public static FunctionPrototype Parse(string declaration)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(declaration);
        var open = declaration.IndexOf('(', StringComparison.Ordinal);
        var close = declaration.LastIndexOf(')');
        if (open < 0 || close < open)
            throw new FormatException($"prototype '{declaration}': expected 'RET NAME(PARAMS)'");
        var (returnType, name) = SplitDeclarator(declaration[..open], declaration);
        var inner = declaration[(open + 1)..close].Trim();
        var parameters = new List<FunctionParameter>();
        if (inner.Length > 0 && inner != "void")
        {
            foreach (var part in inner.Split(','))
            {
                var (type, pname) = SplitDeclarator(part, declaration);
                parameters.Add(new FunctionParameter(type, pname));
            }
        }

        if (parameters.Count > MaxRegisterArguments)
            throw new FormatException($"prototype '{declaration}': more than {MaxRegisterArguments} parameters");
        return new FunctionPrototype(returnType, name, parameters);
    }

    private static (string Type, string Name) SplitDeclarator(string text, string whole)
    {
        text = text.Trim();
        var end = text.Length;
        var start = end;
        while (start > 0 && (char.IsLetterOrDigit(text[start - 1]) || text[start - 1] == '_'))
            start--;
        if (start == end || start == 0)
            throw new FormatException($"prototype '{whole}': cannot split '{text}' into a type and a name");
        var type = text[..start].Trim().Replace(" *", "*", StringComparison.Ordinal).Replace("*", " *", StringComparison.Ordinal).Trim();
        return (type.Replace("  ", " ", StringComparison.Ordinal), text[start..end]);
    }

    /// <summary>The C declaration.</summary>
    public override string ToString() =>
        $"{ReturnType} {Name}({(Parameters.Count == 0 ? "void" : string.Join(", ", Parameters.Select(p => p.Type.EndsWith('*') ? p.Type + p.Name : p.Type + " " + p.Name)))})";
}
