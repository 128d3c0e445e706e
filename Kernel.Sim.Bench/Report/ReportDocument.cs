using System.Net;
using System.Text;

namespace Kernel.Sim.Bench.Report;

/// <summary>
/// The report as a list of blocks (headings, paragraphs, tables, charts), rendered once as Markdown and once as HTML
/// so the two always say the same thing. Charts are referenced by relative file name (PNG shown, SVG linked).
/// </summary>
public sealed class ReportDocument
{
    private readonly List<Block> _blocks = [];

    /// <summary>The charts added, by base file name (each written as NAME.png and NAME.svg).</summary>
    public IReadOnlyList<string> Charts => [.. _blocks.OfType<ChartBlock>().Select(c => c.Name)];

    /// <summary>A heading of <paramref name="level"/> (1 = title).</summary>
    public void Heading(int level, string text) => _blocks.Add(new HeadingBlock(level, text));

    /// <summary>A paragraph; <c>`code`</c> spans are kept.</summary>
    public void Paragraph(string text) => _blocks.Add(new ParagraphBlock(text));

    /// <summary>A preformatted block (a command line).</summary>
    public void Code(string text) => _blocks.Add(new CodeBlock(text));

    /// <summary>A table with a header row.</summary>
    public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows) =>
        _blocks.Add(new TableBlock(header, [.. rows]));

    /// <summary>A chart written as <paramref name="name"/>.png and .svg beside the report.</summary>
    public void Chart(string name, string caption) => _blocks.Add(new ChartBlock(name, caption));

    /// <summary>The Markdown form.</summary>
    public string ToMarkdown()
    {
        var md = new StringBuilder();
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case HeadingBlock h:
                    md.Append('#', h.Level).Append(' ').AppendLine(h.Text).AppendLine();
                    break;
                case ParagraphBlock p:
                    md.AppendLine(p.Text).AppendLine();
                    break;
                case CodeBlock c:
                    md.AppendLine("```").AppendLine(c.Text).AppendLine("```").AppendLine();
                    break;
                case TableBlock t:
                    md.AppendLine("| " + string.Join(" | ", t.Header.Select(Cell)) + " |");
                    md.AppendLine("|" + string.Concat(t.Header.Select((_, i) => i == 0 ? " --- |" : " ---: |")));
                    foreach (var row in t.Rows)
                        md.AppendLine("| " + string.Join(" | ", row.Select(Cell)) + " |");
                    md.AppendLine();
                    break;
                case ChartBlock c:
                    md.AppendLine($"![{c.Caption}]({c.Name}.png)").AppendLine();
                    md.AppendLine($"*{c.Caption}* ([SVG]({c.Name}.svg))").AppendLine();
                    break;
            }
        }

        return md.ToString();
    }

    /// <summary>The HTML form: one page (inline style, well-formed XML) referencing the chart files relatively.</summary>
    public string ToHtml(string title)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\" />");
        html.AppendLine($"<title>{E(title)}</title>");
        html.AppendLine("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
                        + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em}"
                        + "td{text-align:right}td:first-child{text-align:left}img{max-width:100%}code,pre{background:#f4f4f4}</style>");
        html.AppendLine("</head><body>");
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case HeadingBlock h:
                    html.AppendLine($"<h{h.Level}>{Inline(h.Text)}</h{h.Level}>");
                    break;
                case ParagraphBlock p:
                    html.AppendLine($"<p>{Inline(p.Text)}</p>");
                    break;
                case CodeBlock c:
                    html.AppendLine($"<pre>{E(c.Text)}</pre>");
                    break;
                case TableBlock t:
                    html.AppendLine("<table><tr>" + string.Concat(t.Header.Select(x => $"<th>{E(x)}</th>")) + "</tr>");
                    foreach (var row in t.Rows)
                        html.AppendLine("<tr>" + string.Concat(row.Select(x => $"<td>{E(x)}</td>")) + "</tr>");
                    html.AppendLine("</table>");
                    break;
                case ChartBlock c:
                    html.AppendLine($"<figure><img src=\"{E(c.Name)}.png\" alt=\"{E(c.Caption)}\" /><figcaption>{E(c.Caption)} (<a href=\"{E(c.Name)}.svg\">SVG</a>)</figcaption></figure>");
                    break;
            }
        }

        html.AppendLine("</body></html>");
        return html.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    // `code` spans become <code>; everything else is escaped.
    private static string Inline(string text)
    {
        var parts = text.Split('`');
        var html = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
            html.Append(i % 2 == 1 ? $"<code>{E(parts[i])}</code>" : E(parts[i]));
        return html.ToString();
    }

    private abstract record Block;

    private sealed record HeadingBlock(int Level, string Text) : Block;

    private sealed record ParagraphBlock(string Text) : Block;

    private sealed record CodeBlock(string Text) : Block;

    private sealed record TableBlock(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) : Block;

    private sealed record ChartBlock(string Name, string Caption) : Block;
}
