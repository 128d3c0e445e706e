using System.Buffers.Binary;
using System.Diagnostics;

namespace Kernel.Sim.Bpf.Elf;

/// <summary>What one fuzz run found.</summary>
public sealed record ElfFuzzReport(int Count, int Loaded, int Rejected, int Crashes, TimeSpan Elapsed, IReadOnlyDictionary<string, int> ByMutation, IReadOnlyList<ElfFuzzCrash> CrashCases)
{
    /// <summary>The most frequent rejection messages' first words, for a sense of what the loader caught.</summary>
    public IReadOnlyDictionary<string, int> RejectionKinds { get; init; } = new Dictionary<string, int>();
}

/// <summary>A mutated object on which the loader threw something other than <see cref="BpfObjectException"/> (or hung).</summary>
public sealed record ElfFuzzCrash(int Iteration, string Seed, string Mutation, string Exception, byte[] Data);

/// <summary>
/// Mutates BPF objects (bit flips, byte stores, truncation, section header corruption, bad sh_link/sh_info,
/// bad relocations, corrupt symbols, bad BTF type ids and string offsets) and loads each mutant. Any exception that
/// is not <see cref="BpfObjectException"/> is a crash. Iteration i of seed S uses its own generator seeded from
/// (S, i), so a single case can be replayed with <see cref="Mutate"/>.
/// </summary>
public sealed class ElfFuzzer
{
    private static readonly string[] Mutations = ["bitflip", "byte", "truncate", "shdr", "shlink", "reloc", "symbol", "btf-type", "btf-string", "btf-header"];
    private readonly IReadOnlyList<(string Name, byte[] Data)> corpus;

    public ElfFuzzer(IReadOnlyList<(string Name, byte[] Data)> corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (corpus.Count == 0)
            throw new ArgumentException("the fuzz corpus is empty", nameof(corpus));
        this.corpus = corpus;
    }

    /// <summary>
    /// Runs <paramref name="count"/> mutants from <paramref name="seed"/>; <paramref name="stopAfterCrashes"/> ends early.
    /// The mutants load on a worker thread; one that makes no progress for <paramref name="hangTimeout"/> is a hang,
    /// reported as a crash (the stuck worker is a background thread and is abandoned).
    /// </summary>
    public ElfFuzzReport Run(int count, int seed, int stopAfterCrashes = 10, TimeSpan? hangTimeout = null)
    {
        ElfFuzzReport? report = null;
        var current = -1;
        var worker = new Thread(() => report = RunLoop(count, seed, stopAfterCrashes, i => Volatile.Write(ref current, i))) { IsBackground = true, Name = "fuzz-elf" };
        worker.Start();
        var timeout = hangTimeout ?? TimeSpan.FromSeconds(10);
        var last = -1;
        while (!worker.Join(timeout))
        {
            var now = Volatile.Read(ref current);
            if (now == last)
            {
                var (name, data, mutation) = Mutate(seed, now);
                var hang = new ElfFuzzCrash(now, $"{seed}:{now}", mutation + " of " + name, $"hang: no progress for {timeout.TotalSeconds} s", data);
                return new ElfFuzzReport(now + 1, 0, 0, 1, timeout, new Dictionary<string, int>(), [hang]);
            }

            last = now;
        }

        return report!;
    }

    private ElfFuzzReport RunLoop(int count, int seed, int stopAfterCrashes, Action<int> progress)
    {
        var byMutation = Mutations.ToDictionary(m => m, _ => 0);
        var rejectionKinds = new Dictionary<string, int>();
        var crashes = new List<ElfFuzzCrash>();
        int loaded = 0, rejected = 0;
        var sw = Stopwatch.StartNew();
        var i = 0;
        for (; i < count && crashes.Count < stopAfterCrashes; i++)
        {
            progress(i);
            var (name, data, mutation) = Mutate(seed, i);
            byMutation[mutation]++;
            try
            {
                BpfObject.Load(data, name);
                loaded++;
            }
            catch (BpfObjectException e)
            {
                rejected++;
                var kind = e.Message.Split(':')[0];
                rejectionKinds[kind] = rejectionKinds.GetValueOrDefault(kind) + 1;
            }
#pragma warning disable CA1031 // Every other exception is exactly what the fuzzer exists to find.
            catch (Exception e)
#pragma warning restore CA1031
            {
                crashes.Add(new ElfFuzzCrash(i, $"{seed}:{i}", mutation + " of " + name, e.GetType().Name + ": " + e.Message + Environment.NewLine + e.StackTrace, data));
            }
        }

        return new ElfFuzzReport(i, loaded, rejected, crashes.Count, sw.Elapsed, byMutation, crashes) { RejectionKinds = rejectionKinds };
    }

    /// <summary>Mutant <paramref name="iteration"/> of run <paramref name="seed"/>: the corpus object it came from, its bytes, the mutation applied.</summary>
    public (string Name, byte[] Data, string Mutation) Mutate(int seed, int iteration)
    {
        var rng = new Random(HashCode.Combine(seed, iteration, 0x5eed));
        var (name, original) = corpus[rng.Next(corpus.Count)];
        var data = (byte[])original.Clone();
        var mutation = Mutations[rng.Next(Mutations.Length)];
        var rounds = rng.Next(4) == 0 ? rng.Next(2, 6) : 1;
        for (var r = 0; r < rounds; r++)
            data = Apply(mutation, data, rng);
        return (name, data, mutation);
    }

    private static byte[] Apply(string mutation, byte[] data, Random rng)
    {
        switch (mutation)
        {
            case "bitflip":
                for (var n = rng.Next(1, 9); n > 0; n--)
                    data[rng.Next(data.Length)] ^= (byte)(1 << rng.Next(8));
                return data;
            case "byte":
                data[rng.Next(data.Length)] = Interesting8(rng);
                return data;
            case "truncate":
                return data.AsSpan(0, rng.Next(data.Length)).ToArray();
            case "shdr":
                {
                    var (off, _) = SectionHeader(data, rng);
                    if (off < 0)
                        return data;
                    var field = new[] { 0, 4, 8, 24, 32, 40, 44, 56 }[rng.Next(8)];
                    Store(data, off + field, field is 8 or 24 or 32 or 56 ? 8 : 4, rng);
                    return data;
                }

            case "shlink":
                {
                    var (off, _) = SectionHeader(data, rng);
                    if (off >= 0)
                        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(off + (rng.Next(2) == 0 ? 40 : 44)), Interesting32(rng));
                    return data;
                }

            case "reloc":
                return CorruptEntries(data, rng, type: 9, entSize: 16, fields: [(0, 8), (8, 4), (12, 4)]);
            case "symbol":
                return CorruptEntries(data, rng, type: 2, entSize: 24, fields: [(0, 4), (4, 1), (6, 2), (8, 8), (16, 8)]);
            case "btf-type" or "btf-string" or "btf-header":
                return CorruptBtf(mutation, data, rng);
            default:
                throw new UnreachableException(mutation);
        }
    }

    private static (int Offset, int Index) SectionHeader(byte[] data, Random rng)
    {
        if (data.Length < 64)
            return (-1, -1);
        var shoff = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(40));
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(60));
        if (shnum == 0 || shoff > (ulong)data.Length || (ulong)shnum * 64 > (ulong)data.Length - shoff)
            return (-1, -1);
        var i = rng.Next(shnum);
        return ((int)shoff + (i * 64), i);
    }

    /// <summary>Finds a section of <paramref name="type"/> (by walking the headers) and corrupts one field of one entry.</summary>
    private static byte[] CorruptEntries(byte[] data, Random rng, uint type, int entSize, (int Off, int Size)[] fields)
    {
        var sections = SectionsOfType(data, s => s.Type == type);
        if (sections.Count == 0)
            return data;
        var (off, size) = sections[rng.Next(sections.Count)];
        var n = size / entSize;
        if (n == 0)
            return data;
        var e = off + (rng.Next(n) * entSize);
        var (fo, fs) = fields[rng.Next(fields.Length)];
        Store(data, e + fo, fs, rng);
        return data;
    }

    private static byte[] CorruptBtf(string mutation, byte[] data, Random rng)
    {
        var btf = SectionsOfType(data, s => s.Name == ".BTF");
        if (btf.Count == 0)
            return data;
        var (off, size) = btf[0];
        if (size < 24)
            return data;
        if (mutation == "btf-header")
        {
            Store(data, off + (4 * rng.Next(1, 6)), 4, rng);
            return data;
        }

        var hdrLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(off + 4));
        var typeOff = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(off + 8));
        var typeLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(off + 12));
        var start = off + hdrLen + typeOff;
        if (typeLen < 12 || start < off || start + typeLen > off + size)
            return data;

        // Type records are sequences of u32 words: the name offset, info and size/type words of the headers and
        // the member/param/var words after them. Any aligned word is one of these.
        var word = start + (4 * rng.Next(typeLen / 4));
        var value = mutation == "btf-type"
            ? (uint)(rng.Next(3) == 0 ? rng.Next(-2, 400) : (int)Interesting32(rng))
            : (uint)rng.Next(0, 100_000);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(word), value);
        return data;
    }

    private static List<(int Offset, int Size)> SectionsOfType(byte[] data, Func<(uint Type, string Name), bool> match)
    {
        var result = new List<(int, int)>();
        if (data.Length < 64)
            return result;
        var shoff = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(40));
        var shnum = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(60));
        var shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(62));
        if (shoff > (ulong)data.Length || (ulong)shnum * 64 > (ulong)data.Length - shoff || shstrndx >= shnum)
            return result;
        var strOff = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan((int)shoff + (shstrndx * 64) + 24));
        var strSize = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan((int)shoff + (shstrndx * 64) + 32));
        for (var i = 0; i < shnum; i++)
        {
            var h = data.AsSpan((int)shoff + (i * 64), 64);
            var nameOff = BinaryPrimitives.ReadUInt32LittleEndian(h);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
            var off = BinaryPrimitives.ReadUInt64LittleEndian(h[24..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(h[32..]);
            if (off > (ulong)data.Length || size > (ulong)data.Length - off)
                continue;
            var name = "";
            if (strOff <= (ulong)data.Length && strSize <= (ulong)data.Length - strOff && nameOff < strSize)
            {
                var s = data.AsSpan((int)(strOff + nameOff), (int)(strSize - nameOff));
                var end = s.IndexOf((byte)0);
                name = System.Text.Encoding.ASCII.GetString(end < 0 ? s : s[..end]);
            }

            if (match((type, name)))
                result.Add(((int)off, (int)size));
        }

        return result;
    }

    private static void Store(byte[] data, int offset, int size, Random rng)
    {
        if (offset < 0 || offset + size > data.Length)
            return;
        var v = rng.Next(3) == 0 ? (ulong)rng.NextInt64() : Interesting32(rng) | (rng.Next(4) == 0 ? 0xffffffff00000000UL : 0);
        for (var k = 0; k < size; k++)
            data[offset + k] = (byte)(v >> (8 * k));
    }

    private static byte Interesting8(Random rng) => new byte[] { 0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40 }[rng.Next(8)];

    private static uint Interesting32(Random rng) =>
        new uint[] { 0, 1, 2, 7, 8, 16, 24, 0x7f, 0x80, 0xff, 0x100, 0xfff1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff }[rng.Next(18)];
}
