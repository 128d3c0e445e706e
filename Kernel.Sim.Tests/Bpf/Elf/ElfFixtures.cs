using System.Globalization;
using Kernel.Sim.Bpf.Elf;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Bpf.Elf;

/// <summary>The committed fixture objects and what Programs/expected.txt says each must load as.</summary>
public static class ElfFixtures
{
    public sealed record ExpectedProgram(string Name, string Section, string Type, string[] Subprograms);

    public sealed record ExpectedMap(string Name, string Type, uint KeySize, uint ValueSize, uint MaxEntries, uint Flags);

    public sealed record Expected(string File, List<ExpectedProgram> Programs, List<ExpectedMap> Maps)
    {
        public override string ToString() => File;
    }

    public static string Dir => TestPaths.Data("Bpf", "Elf", "Programs");

    public static string SourceDir => Path.Combine(TestPaths.RepoRoot, "Kernel.Sim.Tests", "Bpf", "Elf", "Programs");

    public static string PathOf(string file) => Path.Combine(Dir, file);

    public static BpfObject Load(string file, BpfObjectOptions? options = null) => BpfObject.LoadFile(PathOf(file), options);

    public static byte[] Bytes(string file) => File.ReadAllBytes(PathOf(file));

    public static IEnumerable<Expected> All()
    {
        Expected? cur = null;
        foreach (var raw in File.ReadLines(Path.Combine(Dir, "expected.txt")))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (f[0])
            {
                case "object:":
                    if (cur is not null)
                        yield return cur;
                    cur = new Expected(f[1], [], []);
                    break;
                case "prog":
                    var subs = f.Length > 4 && f[4].StartsWith("subprogs=", StringComparison.Ordinal) ? f[4]["subprogs=".Length..].Split(',') : [];
                    cur!.Programs.Add(new ExpectedProgram(f[1], f[2], f[3], subs));
                    break;
                case "map":
                    cur!.Maps.Add(new ExpectedMap(f[1], f[2], U(f[3]), U(f[4]), U(f[5]), Convert.ToUInt32(f[6], 16)));
                    break;
                default:
                    throw new InvalidDataException("expected.txt: " + raw);
            }
        }

        if (cur is not null)
            yield return cur;
    }

    private static uint U(string s) => uint.Parse(s, CultureInfo.InvariantCulture);
}
