using Kernel.Sim.Tracing.Tracefs;

namespace Kernel.Sim.Bench.Demos;

/// <summary>Shows tracefs commands as a root shell types them and runs them against a simulated kernel's tracefs.</summary>
public sealed class TracefsConsole(DemoSession session, TracefsFileSystem fs)
{
    private const string Root = "/sys/kernel/tracing/";

    /// <summary><c>echo TEXT &gt; FILE</c> (or <c>&gt;&gt;</c>); prints the shell's write error when the kernel refuses.</summary>
    public int Echo(string text, string file, bool append = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Quoted as a careful user would: the shell would expand $, * and ? itself.
        var quoted = text.Length == 0 ? string.Empty : text.IndexOfAny([' ', '$', '*', '?', '[']) >= 0 ? $"'{text}' " : text + " ";
        session.Command($"# echo {quoted}{(append ? ">>" : ">")} {Root}{file}");
        var result = fs.Write(file, text, append);
        if (result != 0)
            session.Show($"bash: echo: {TracefsFileSystem.DescribeWriteError(result)}");
        return result;
    }

    /// <summary><c>cat FILE</c>, optionally only the first <paramref name="head"/> lines (<c>| head -n</c>).</summary>
    public string Cat(string file, int head = 0)
    {
        var read = fs.Read(file);
        var text = read.Text;
        if (head > 0)
        {
            session.Command($"# cat {Root}{file} | head -{head}");
            text = string.Join('\n', text.Split('\n').Take(head));
        }
        else
        {
            session.Command($"# cat {Root}{file}");
        }

        session.Show(read.Errno == 0 ? text : $"cat: {file}: error {read.Errno}");
        return read.Text;
    }
}
