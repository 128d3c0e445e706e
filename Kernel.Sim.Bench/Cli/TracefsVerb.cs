using System.CommandLine;
using System.Text;
using Kernel.Sim.Hosting;
using Kernel.Sim.Tracing.Tracefs;

namespace Kernel.Sim.Bench.Cli;

/// <summary>
/// <c>kernelsim tracefs</c>: a small shell over the tracefs facade for teaching: <c>echo … &gt; FILE</c>,
/// <c>echo … &gt;&gt; FILE</c>, <c>cat FILE</c>, <c>ls [DIR]</c>, plus <c>run WORKLOAD [N] [CPU]</c> to make the kernel
/// do something and <c>dmesg</c> to read printk. Reads a script (<c>--script FILE</c>) or standard input.
/// </summary>
public sealed class TracefsVerb : IVerb
{
    public string Parent => string.Empty;

    public Command Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var script = new Option<FileInfo?>("--script") { Description = "Run the commands of FILE instead of reading standard input" };
        var cpus = new Option<int>("--cpus") { Description = "Simulated CPUs", DefaultValueFactory = _ => 2 };
        var command = new Command("tracefs", "A shell over /sys/kernel/tracing of a simulated kernel (echo, cat, ls, run)");
        command.Options.Add(script);
        command.Options.Add(cpus);
        command.SetAction(parse =>
        {
            var file = parse.GetValue(script);
            if (parse.GetValue(cpus) < 1)
                throw new CliUsageException("--cpus must be at least 1");
            if (file is not null && !file.Exists)
                throw new CliUsageException($"{file.FullName}: no such file");
            using var kernel = new SimulatedKernel(new KernelSimOptions { Cpus = parse.GetValue(cpus) });
            kernel.Workloads.InstallAll();
            var shell = new TracefsShell(kernel, context);
            var interactive = file is null && !Console.IsInputRedirected;
            using var input = file is null ? Console.In : file.OpenText();
            var failed = false;
            var number = 0;
            while (true)
            {
                if (interactive)
                    context.Out.Write("tracefs# ");
                var line = input.ReadLine();
                if (line is null)
                    break;
                number++;
                if (!shell.Execute(line, file is null ? null : $"{file.Name}:{number}"))
                    failed = true;
            }

            return failed ? KernelSimCli.Failure : KernelSimCli.Success;
        });
        return command;
    }
}

/// <summary>Executes one shell line against a kernel's tracefs.</summary>
internal sealed class TracefsShell(SimulatedKernel kernel, CliContext context)
{
    private TracefsFileSystem Fs => kernel.Tracing.Tracefs;

    /// <summary>Runs a line; false when it failed (the error is printed).</summary>
    public bool Execute(string line, string? where)
    {
        var prefix = where is null ? "tracefs" : $"tracefs: {where}";
        List<string> words;
        try
        {
            words = Tokenize(line);
        }
        catch (FormatException e)
        {
            context.Error.WriteLine($"{prefix}: {e.Message}");
            return false;
        }

        if (words.Count == 0)
            return true;
        switch (words[0])
        {
            case "echo":
                return Echo(words, prefix);
            case "cat":
                if (words.Count != 2)
                    return Fail(prefix, "usage: cat FILE");
                var read = Fs.Read(words[1]);
                if (read.Errno != 0)
                    return Fail(prefix, $"cat: {words[1]}: {Core.Errno.Describe(read.Errno)}");
                context.Out.Write(read.Text);
                return true;
            case "ls":
                var entries = Fs.List(words.Count > 1 ? words[1] : string.Empty);
                if (entries is null)
                    return Fail(prefix, $"ls: cannot access '{words[1]}': No such file or directory");
                foreach (var entry in entries)
                    context.Out.WriteLine(entry);
                return true;
            case "dmesg":
                foreach (var message in kernel.Core.Printk.Lines)
                    context.Out.WriteLine(message);
                return true;
            case "run":
                if (words.Count < 2 || !kernel.Workloads.Names.Contains(words[1]))
                    return Fail(prefix, $"usage: run WORKLOAD [N] [CPU] (workloads: {string.Join(", ", kernel.Workloads.Names)})");
                var n = words.Count > 2 && int.TryParse(words[2], out var count) ? count : 1;
                var cpu = words.Count > 3 && int.TryParse(words[3], out var c) ? c : 0;
                if (cpu < 0 || cpu >= kernel.Core.Cpus.Count)
                    return Fail(prefix, $"run: no cpu {cpu}");
                kernel.Workloads.Run(words[1], n, cpu);
                return true;
            default:
                return Fail(prefix, $"{words[0]}: command not found (echo, cat, ls, run, dmesg)");
        }
    }

    private bool Echo(List<string> words, string prefix)
    {
        var redirect = words.FindIndex(w => w is ">" or ">>");
        if (redirect < 0 || redirect != words.Count - 2)
        {
            context.Out.WriteLine(string.Join(' ', words.Skip(1)));
            return true;
        }

        var text = string.Join(' ', words.Skip(1).Take(redirect - 1));
        var result = Fs.Write(words[^1], text + "\n", append: words[redirect] == ">>");
        return result == 0 || Fail(prefix, $"echo: {TracefsFileSystem.DescribeWriteError(result)}");
    }

    private bool Fail(string prefix, string message)
    {
        context.Error.WriteLine($"{prefix}: {message}");
        return false;
    }

    /// <summary>Splits a line into words with shell quoting ('…', "…", \x) and separate &gt; / &gt;&gt; tokens.</summary>
    internal static List<string> Tokenize(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '#' && !inWord)
                break;
            if (char.IsWhiteSpace(c))
            {
                Flush();
                continue;
            }

            if (c == '>')
            {
                Flush();
                var append = i + 1 < line.Length && line[i + 1] == '>';
                words.Add(append ? ">>" : ">");
                if (append)
                    i++;
                continue;
            }

            inWord = true;
            if (c is '\'' or '"')
            {
                var end = line.IndexOf(c, i + 1);
                if (end < 0)
                    throw new FormatException($"unterminated {c} quote");
                current.Append(line, i + 1, end - i - 1);
                i = end;
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                current.Append(line[++i]);
            }
            else
            {
                current.Append(c);
            }
        }

        Flush();
        return words;

        void Flush()
        {
            if (inWord)
                words.Add(current.ToString());
            current.Clear();
            inWord = false;
        }
    }
}
