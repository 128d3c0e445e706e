namespace Kernel.Sim.Bench.Demos;

/// <summary>The demos <c>kernelsim demo</c> offers, in teaching order.</summary>
public static class DemoCatalog
{
    /// <summary>Every demo, in the order <c>kernelsim demo list</c> prints them.</summary>
    public static IReadOnlyList<IDemo> All { get; } =
    [
        new RetpolineDemo(),
        new DevirtDemo(),
        new StaticCallDemo(),
        new AdaptiveDemo(),
        new FtraceDemo(),
        new KprobeDemo(),
        new VerifierDemo(),
        new PacketPathDemo(),
        new SeedDemo(),

    ];

    /// <summary>The demo named <paramref name="name"/>, or null.</summary>
    public static IDemo? Find(string name) => All.FirstOrDefault(d => d.Name == name);
}
