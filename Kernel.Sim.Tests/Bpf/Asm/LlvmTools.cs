using System.Diagnostics;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Tests.Bpf.Asm;

/// <summary>Runs the LLVM 14 command-line tools the agreement tests compare against, and reads the objects they write.</summary>
public static class LlvmTools
{
    public const string Mc = "llvm-mc-14";
    public const string Objdump = "llvm-objdump-14";
    public const string Clang = "clang-14";

    /// <summary>The full path of <paramref name="tool"/> on PATH, or null.</summary>
    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>Fails the test, saying how to install it, when <paramref name="tool"/> is missing.</summary>
    public static string Require(string tool)
    {
        var path = Find(tool);
        if (path is null)
        {
            var package = tool == Clang ? "clang-14" : "llvm-14";
            Assert.Fail($"{tool} is not on PATH; this test compares against it. Install it with: apt-get install {package}");
        }

        return path!;
    }

    /// <summary>Runs a tool to completion; fails the test with its stderr when it exits non-zero.</summary>
    public static string Run(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            Assert.Fail($"{tool} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{stderr.Result}");
        return stdout;
    }

    /// <summary>The executable (<c>"ax"</c>) sections with content, by name, as instruction slots.</summary>
    public static IReadOnlyList<(string Name, Instruction[] Program)> ProgramSections(string objectPath)
    {
        var elf = ElfFile.Parse(File.ReadAllBytes(objectPath));
        var result = new List<(string, Instruction[])>();
        foreach (var section in elf.Sections)
        {
            if (!section.IsExecutable)
                continue;
            var bytes = elf.Contents(section);
            if (bytes.Length > 0)
                result.Add((section.Name, Instruction.ReadAll(bytes)));
        }

        return result;
    }
}
