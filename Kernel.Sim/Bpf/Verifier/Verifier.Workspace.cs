using Kernel.Sim.Bpf.Isa;

namespace Kernel.Sim.Bpf.Verifier;

public sealed partial class Verifier
{
    /// <summary>
    /// Everything a run sizes by the program's instruction count, plus its collections, kept per thread for the
    /// next run (as the spare states are): a loader or a benchmark verifies program after program, and allocating
    /// a dozen per-instruction arrays and growing the checkpoint table afresh each time cost a third of a branchy
    /// program's time in allocation and collections. A run takes the workspace (so a nested or failed run never
    /// shares it) and gives it back when done; buffers are cleared to the program's length when rented.
    /// </summary>
    private sealed class Workspace
    {
        /// <summary>Buffers for larger programs are dropped after the run (at most a few MB stay per thread).</summary>
        private const int MaxKeptInsns = 1 << 16;

        /// <summary>Collections grown past this many entries are dropped rather than kept.</summary>
        private const int MaxKeptEntries = 1 << 14;

        [ThreadStatic]
        private static Workspace? spare;

        private Instruction[] insns = [];
        private bool[] precise = [];
        private bool[] decidedJumps = [];
        private int[] inProgressCount = [];
        private VerifierState?[] explored = [];
        private int[] exploredCount = [];
        private int[] subprogStackDepth = [];

        public Dictionary<ChainKey, VerifierState> InProgress { get; private set; } = [];

        public Stack<PendingBranch> Pending { get; private set; } = new();

        /// <summary>States left over by earlier runs (see <see cref="MaxSpareStates"/>).</summary>
        public Stack<VerifierState> States { get; } = new();

        public ControlFlow Cfg { get; private set; } = new();

        /// <summary>Takes this thread's workspace (a fresh one if a run holds it or none was made yet).</summary>
        public static Workspace Take()
        {
            var w = spare ?? new Workspace();
            spare = null;
            return w;
        }

        /// <summary>Gives the workspace back for the next run on this thread, without what a huge program grew.</summary>
        public void Return(int insnCount)
        {
            if (insnCount > MaxKeptInsns)
            {
                insns = [];
                precise = decidedJumps = [];
                inProgressCount = exploredCount = subprogStackDepth = [];
                explored = [];
                Cfg = new ControlFlow();
            }

            if (InProgress.EnsureCapacity(0) > MaxKeptEntries)
                InProgress = [];
            if (Pending.EnsureCapacity(0) > MaxKeptEntries)
                Pending = new Stack<PendingBranch>();
            spare = this;
        }

        /// <summary>A copy of the program: the previous run's buffer when the length is the same (the verifier needs an array of exactly the program's length).</summary>
        public Instruction[] CopyProgram(ReadOnlySpan<Instruction> program)
        {
            if (insns.Length != program.Length)
                insns = new Instruction[program.Length];
            program.CopyTo(insns);
            return insns;
        }

        public bool[] Precise(int n) => Rent(ref precise, n);

        public bool[] DecidedJumps(int n) => Rent(ref decidedJumps, n);

        public int[] InProgressCount(int n) => Rent(ref inProgressCount, n);

        public VerifierState?[] Explored(int n) => Rent(ref explored, n);

        public int[] ExploredCount(int n) => Rent(ref exploredCount, n);

        public int[] SubprogStackDepth(int n) => Rent(ref subprogStackDepth, n);

        private static T[] Rent<T>(ref T[] buffer, int n) => ReusedBuffer.Rent(ref buffer, n);
    }
}

/// <summary>Per-instruction buffers kept from one verification run to the next (see <c>Verifier.Workspace</c>).</summary>
internal static class ReusedBuffer
{
    /// <summary>
    /// A buffer of at least <paramref name="n"/> elements whose first <paramref name="n"/> are default: the one
    /// given when it is long enough. Callers index it by instruction and never look past the program's length.
    /// </summary>
    public static T[] Rent<T>(ref T[] buffer, int n)
    {
        if (buffer.Length < n)
            buffer = new T[n];
        else
            Array.Clear(buffer, 0, n);
        return buffer;
    }
}
