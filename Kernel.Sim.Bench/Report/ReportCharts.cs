using ScottPlot;

namespace Kernel.Sim.Bench.Report;

/// <summary>One named series of a chart.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> Values);

/// <summary>
/// Draws the report's charts with ScottPlot and writes each as PNG and SVG. Text uses one font family chosen once
/// (<see cref="FontFamily"/>): a sans-serif family installed on the machine, so PNG text does not depend on which
/// default Skia happens to pick.
/// </summary>
public static class ReportCharts
{
    /// <summary>Chart size in pixels.</summary>
    public const int Width = 900;

    /// <summary>Chart height in pixels.</summary>
    public const int Height = 480;

    private static readonly Lazy<string?> Font = new(ChooseFont);

    /// <summary>The font family the charts use, or null when the machine has no usable font (text is then missing from PNGs).</summary>
    public static string? FontFamily => Font.Value;

    /// <summary>Grouped bars: one group per category, one bar per series.</summary>
    public static Plot Bars(string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<ChartSeries> series)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(series);
        var plot = NewPlot(title, yLabel);
        var groupWidth = series.Count + 1;
        for (var s = 0; s < series.Count; s++)
        {
            var color = plot.Add.Palette.GetColor(s);
            var bars = new List<Bar>();
            for (var c = 0; c < categories.Count; c++)
            {
                var value = series[s].Values[c];
                if (double.IsNaN(value))
                    continue;
                bars.Add(new Bar { Position = (c * groupWidth) + s, Value = value, FillColor = color });
            }

            plot.Add.Bars(bars);
            if (series.Count > 1)
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = color });
        }

        var ticks = categories.Select((name, c) => new Tick((c * groupWidth) + ((series.Count - 1) / 2.0), name, isMajor: true)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Axes.Right.MinimumSize = 90; // room for the last rotated label
        plot.Axes.Margins(bottom: 0);
        if (series.Count > 1)
            plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>Lines with markers over a shared x axis; <paramref name="reference"/> adds a dashed horizontal line.</summary>
    public static Plot Lines(string title, string xLabel, string yLabel, IReadOnlyList<double> x, IReadOnlyList<ChartSeries> series, (string Name, double Value)? reference = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(series);
        var plot = NewPlot(title, yLabel);
        plot.XLabel(xLabel);
        foreach (var s in series)
        {
            var scatter = plot.Add.Scatter(x.ToArray(), s.Values.ToArray());
            scatter.LegendText = s.Name;
            scatter.MarkerSize = 6;
        }

        if (reference is { } r)
        {
            var line = plot.Add.HorizontalLine(r.Value);
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = r.Name;
            line.Color = Colors.Black;
        }

        // Counts on the x axis get integer ticks only.
        if (x.Count <= 20 && x.All(v => v == Math.Floor(v)))
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. x.Select(v => new Tick(v, v.ToString(System.Globalization.CultureInfo.InvariantCulture), isMajor: true))]);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>Writes <paramref name="plot"/> as DIR/NAME.png and DIR/NAME.svg.</summary>
    public static void Save(Plot plot, string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(plot);
        plot.SavePng(Path.Combine(directory, name + ".png"), Width, Height);
        plot.SaveSvg(Path.Combine(directory, name + ".svg"), Width, Height);
    }

    private static Plot NewPlot(string title, string yLabel)
    {
        var plot = new Plot();
        if (FontFamily is { } font)
            plot.Font.Set(font);
        plot.Title(title);
        plot.YLabel(yLabel);
        return plot;
    }

    /// <summary>Environment variable naming a .ttf/.otf file to use when the machine has no suitable font installed.</summary>
    public const string FontFileVariable = "KERNELSIM_REPORT_FONT";

    // A font file named by the environment first; then well-known sans-serif families that render Latin text; then
    // whatever Skia's default is, if it has glyphs at all (on a machine without fonts it has none).
    private static string? ChooseFont()
    {
        if (Environment.GetEnvironmentVariable(FontFileVariable) is { Length: > 0 } file && File.Exists(file))
        {
            using var fromFile = SkiaSharp.SKTypeface.FromFile(file);
            if (fromFile is { GlyphCount: > 0 })
            {
                ScottPlot.Fonts.AddFontFile(fromFile.FamilyName, file);
                return fromFile.FamilyName;
            }
        }

        foreach (var family in new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans", "Arial", "Helvetica" })
        {
            using var typeface = SkiaSharp.SKTypeface.FromFamilyName(family);
            if (typeface is not null && typeface.FamilyName == family)
                return family;
        }

        using var fallback = SkiaSharp.SKTypeface.Default;
        return fallback is { GlyphCount: > 0 } ? fallback.FamilyName : null;
    }
}
