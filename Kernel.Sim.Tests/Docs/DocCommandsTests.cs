using System.Text.RegularExpressions;
using Kernel.Sim.Tests.Cli;
using Kernel.Sim.Tests.Support;

namespace Kernel.Sim.Tests.Docs;

/// <summary>
/// Every command README.md and docs/tutorial.md show runs, in-process, from the repository root, and prints
/// what its <c>&lt;!-- expect --&gt;</c> comment says: the docs cannot drift from the code unnoticed.
/// </summary>
public sealed class DocCommandsTests
{
    private static readonly string[] Docs = ["README.md", "docs/tutorial.md"];

    private static IEnumerable<TestCaseData> Commands()
    {
        var errors = new List<string>();
        foreach (var doc in Docs)
        {
            var path = Path.Combine(TestPaths.RepoRoot, doc);
            foreach (var command in DocCommands.Parse(doc, File.ReadAllText(path), errors))
                yield return new TestCaseData(command).SetArgDisplayNames($"{doc}:{command.Line}");
        }
    }

    [TestCaseSource(nameof(Commands))]
    public void TheCommandRunsAndPrintsWhatTheDocPromises(DocCommand command)
    {
        var saved = Environment.CurrentDirectory;
        CliRunner.Result result;
        try
        {
            // The verbs resolve relative paths against the current directory: the docs' paths are from the root.
            Environment.CurrentDirectory = TestPaths.RepoRoot;
            result = CliRunner.Run(command.Args);
        }
        finally
        {
            Environment.CurrentDirectory = saved;
        }

        Assert.That(result.ExitCode, Is.EqualTo(command.ExpectedExit), $"{command}\n{result.Error}");
        Assert.That(Regex.IsMatch(result.Out, command.Pattern, RegexOptions.Multiline), Is.True,
            $"{command}\nexpected /{command.Pattern}/ in:\n{result.Out}");
    }

    [TestCase("README.md", 8)]
    [TestCase("docs/tutorial.md", 4)]
    public void TheDocIsWellFormedAndShowsCommands(string doc, int atLeast)
    {
        var errors = new List<string>();
        var commands = DocCommands.Parse(doc, File.ReadAllText(Path.Combine(TestPaths.RepoRoot, doc)), errors);
        Assert.That(errors, Is.Empty);
        Assert.That(commands, Has.Count.GreaterThanOrEqualTo(atLeast));
    }

    [Test]
    public void TheParserTakesKernelsimAndDotnetRunLinesAndSkipsTestsAndBench()
    {
        const string md = """
            ```sh
            dotnet run --project Kernel.Sim.Bench -c Release -- run   # the main job
            dotnet test KernelSim.sln
            kernelsim bench --filter '*Bpf*'
            kernelsim trace -e 'p:rcv ip_rcv len=+112(%di):u32' --cpus 1
            ```
            <!-- expect
            ^strategy
            [exit 1] ^rcv: #x
            -->
            """;
        var errors = new List<string>();
        var commands = DocCommands.Parse("t.md", md, errors);
        Assert.That(errors, Is.Empty);
        Assert.That(commands.Select(c => string.Join('|', c.Args)), Is.EqualTo(new[] { "run", "trace|-e|p:rcv ip_rcv len=+112(%di):u32|--cpus|1" }));
        Assert.That(commands.Select(c => (c.ExpectedExit, c.Pattern, c.Line)), Is.EqualTo(new[] { (0, "^strategy", 2), (1, "^rcv: #x", 5) }));
    }

    [TestCase("```sh\nkernelsim model\n```\n", "t.md:2: no <!-- expect ... --> comment after the block")]
    [TestCase("```sh\nkernelsim model\nkernelsim lab\n```\n<!-- expect: x -->\n", "t.md:2: the block has 2 command(s) but its expect comment 1 line(s)")]
    [TestCase("text\n```sh\nkernelsim model\n", "t.md:2: unterminated ```sh block")]
    public void AMalformedDocIsReportedWithItsLine(string md, string error)
    {
        var errors = new List<string>();
        DocCommands.Parse("t.md", md, errors);
        Assert.That(errors, Is.EqualTo(new[] { error }));
    }
}
