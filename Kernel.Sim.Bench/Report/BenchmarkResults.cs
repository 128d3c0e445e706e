using System.Globalization;

namespace Kernel.Sim.Bench.Report;

/// <summary>One BenchmarkDotNet CSV report (BenchmarkDotNet.Artifacts/results/*-report.csv).</summary>
/// <param name="Suite">The benchmark class (file name without the namespace and <c>-report.csv</c>).</param>
/// <param name="Header">Column names.</param>
/// <param name="Rows">Cells per row.</param>
/// <param name="Written">When the file was written (UTC).</param>
public sealed record BenchmarkCsv(string Suite, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows, DateTime Written)
{
    /// <summary>The cell of <paramref name="column"/> in <paramref name="row"/>, or empty.</summary>
    public string Cell(IReadOnlyList<string> row, string column)
    {
        ArgumentNullException.ThrowIfNull(row);
        var i = Header.ToList().IndexOf(column);
        return i >= 0 && i < row.Count ? row[i] : string.Empty;
    }

    /// <summary>A BenchmarkDotNet time cell (<c>12.34 ns</c>, <c>1,234.5 us</c>, <c>1.2 μs</c>, <c>3 ms</c>) in nanoseconds, or NaN.</summary>
    public static double ParseNs(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        var parts = cell.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !double.TryParse(parts[0].Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            return double.NaN;
        return parts[1] switch
        {
            "ns" => value,
            "us" or "μs" or "µs" => value * 1e3,
            "ms" => value * 1e6,
            "s" => value * 1e9,
            _ => double.NaN,
        };
    }
}

/// <summary>Reads the latest BenchmarkDotNet CSV reports, when a <c>kernelsim bench</c> run left some.</summary>
public static class BenchmarkResults
{
    /// <summary>Every <c>*-report.csv</c> under <paramref name="directory"/> (none when it does not exist).</summary>
    public static IReadOnlyList<BenchmarkCsv> Read(string directory)
    {
        if (!Directory.Exists(directory))
            return [];
        var reports = new List<BenchmarkCsv>();
        foreach (var path in Directory.GetFiles(directory, "*-report.csv").Order(StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
            if (lines.Length < 2)
                continue;
            var suite = Path.GetFileName(path)[..^"-report.csv".Length];
            suite = suite[(suite.LastIndexOf('.') + 1)..];
            reports.Add(new BenchmarkCsv(suite, Split(lines[0]), [.. lines.Skip(1).Select(Split)], File.GetLastWriteTimeUtc(path)));
        }

        return reports;
    }

    // BenchmarkDotNet's CSV separator is ',' (or ';' in cultures with a decimal comma); cells with the separator are quoted.
    private static string[] Split(string line)
    {
        var separator = line.Contains(';', StringComparison.Ordinal) && !line.Contains(',', StringComparison.Ordinal) ? ';' : ',';
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"')
                quoted = !quoted;
            else if (c == separator && !quoted)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
                cell.Append(c);
        }

        cells.Add(cell.ToString());
        return [.. cells];
    }
}
