namespace Kernel.Sim.Native;

/// <summary>Which targets successive calls of a generated loop reach (read from a precomputed table).</summary>
public enum TargetPattern
{
    /// <summary>Always target 0.</summary>
    Mono,

    /// <summary>Targets 0, 1, 0, 1, ...: a pattern a branch predictor with history learns.</summary>
    Alternate,

    /// <summary>Uniformly random among targets 0..3 (seeded): a pattern no predictor learns (3 calls in 4 change target).</summary>
    Random,
}

/// <summary>Names and target tables of <see cref="TargetPattern"/>.</summary>
public static class TargetPatterns
{
    /// <summary>The JSON/CLI name: <c>mono</c>, <c>alternate</c>, <c>random</c>.</summary>
    public static string Name(this TargetPattern pattern) => pattern switch
    {
        TargetPattern.Mono => "mono",
        TargetPattern.Alternate => "alternate",
        TargetPattern.Random => "random",
        _ => throw new ArgumentOutOfRangeException(nameof(pattern), pattern, null),
    };

    /// <summary>
    /// Target index of each table slot. The table is long (<see cref="CallLoopImage.TableLength"/> slots, walked
    /// cyclically) so a random pattern's period is far beyond any branch predictor's history.
    /// </summary>
    public static int[] Indices(this TargetPattern pattern, int length, int seed)
    {
        var indices = new int[length];
        var random = new Random(seed);
        for (var i = 0; i < length; i++)
        {
            indices[i] = pattern switch
            {
                TargetPattern.Mono => 0,
                TargetPattern.Alternate => i & 1,
                _ => random.Next(CallLoopImage.PatternTargets),
            };
        }

        return indices;
    }
}
