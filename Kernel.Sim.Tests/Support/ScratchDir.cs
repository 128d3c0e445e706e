namespace Kernel.Sim.Tests.Support;

/// <summary>A fresh temporary folder for one test, holding the files it hands to the CLI; deleted on dispose.</summary>
internal sealed class ScratchDir : IDisposable
{
    public ScratchDir(string prefix) => Root = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The folder's full path.</summary>
    public string Root { get; }

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> in the folder and returns its path.</summary>
    public string Write(string name, string text)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
