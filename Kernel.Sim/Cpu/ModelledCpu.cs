namespace Kernel.Sim.Cpu;

/// <summary>
/// One simulated CPU's predictors (BTB, RSB) and its <see cref="CycleAccount"/>. Every dispatch mechanism charges it
/// in two halves: the call (cost of the call instruction sequence, target prediction, RSB push) and the return (RSB
/// pop, mispredict on a wrong or missing prediction). Nested calls between the halves therefore exercise the RSB as
/// real code does. Not thread-safe: one thread drives one simulated CPU.
/// </summary>
public sealed class ModelledCpu
{
    /// <summary>Length of <c>call rel32</c> / <c>call *%rax</c> + prefix: the return address is the site plus this.</summary>
    public const ulong CallLength = 5;

    /// <summary>Address of the shared <c>__x86_indirect_thunk_rax</c> in the simulated kernel text.</summary>
    public const ulong IndirectThunkAddress = 0xffff_ffff_8200_0000;

    /// <summary>The speculation trap (<c>pause; lfence; jmp</c>) the retpoline's inner call pushes onto the RSB.</summary>
    public const ulong RetpolineCaptureAddress = IndirectThunkAddress + 0x10;

    // Return branches are looked up in the BTB on underflow; keep them apart from the call sites' own entries.
    private const ulong ReturnBranchSalt = 0x5245_5455_524E;

    public ModelledCpu(int id, CpuProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Id = id;
        Profile = profile;
        Btb = new BranchTargetBuffer(profile);
        Rsb = new ReturnStackBuffer(profile.RsbDepth);
    }

    /// <summary>CPU number.</summary>
    public int Id { get; }

    /// <summary>Where the costs come from.</summary>
    public CpuProfile Profile { get; }

    /// <summary>Indirect branch predictor.</summary>
    public BranchTargetBuffer Btb { get; }

    /// <summary>Return predictor.</summary>
    public ReturnStackBuffer Rsb { get; }

    /// <summary>What this CPU has been charged.</summary>
    public CycleAccount Account { get; } = new();

    /// <summary><c>call rel32</c>: a direct call (also the hit of an INDIRECT_CALL guard).</summary>
    public void CallDirect(ulong site) => Call(site, Profile.DirectCall);

    /// <summary>A <c>call rel32</c> that static_call wrote into the caller.</summary>
    public void CallPatched(ulong site) => Call(site, Profile.PatchedCall);

    /// <summary>A call to an out-of-line static_call trampoline that jumps to the target.</summary>
    public void CallTrampoline(ulong site) => Call(site, Profile.DirectCall + Profile.TrampolineJump);

    /// <summary>A RET0 or NULL static_call site (or a disabled static key): a 5-byte NOP or <c>xor %eax,%eax</c>.</summary>
    public void PatchedNop() => Account.Charge(Profile.PatchedNop);

    /// <summary>A static key branch site: a NOP when the key is in its laid-out state, a taken <c>jmp</c> otherwise.</summary>
    public void StaticBranch(bool jumps) => Account.Charge(jumps ? Profile.StaticKeyJump : Profile.PatchedNop);

    /// <summary>
    /// An indirect call from <paramref name="site"/> to <paramref name="target"/> under <paramref name="mitigation"/>.
    /// Returns true when the target was predicted (always false for a retpoline, which mispredicts on purpose).
    /// </summary>
    public bool CallIndirect(ulong site, ulong target, Mitigation mitigation)
    {
        var p = Profile;
        Account.CountCall();
        Account.CountIndirect();
        switch (mitigation)
        {
            case Mitigation.Retpoline:
            {
                // call __x86_indirect_thunk_rax; the thunk's `call 1f` pushes the capture loop, `mov %rax,(%rsp)`
                // replaces the return address, and `ret` pops the capture loop from the RSB: always wrong.
                Rsb.Push(site + CallLength);
                Rsb.Push(RetpolineCaptureAddress);
                Account.Charge(p.DirectCall + p.RetpolineThunk);
                var predicted = Rsb.TryPop(out var speculated) && speculated == target;
                if (!predicted)
                    Mispredict(p.MispredictPenalty);
                return predicted;
            }

            case Mitigation.RetpolineLfence:
            {
                // call the thunk, lfence, jmp *%rax: one jmp shared by every site, so only history tells sites apart.
                Rsb.Push(site + CallLength);
                Account.Charge(p.PredictedIndirectCall + p.Lfence);
                var predicted = Btb.Predict(IndirectThunkAddress, target);
                if (!predicted)
                    Mispredict(p.MispredictAfterLfence);
                return predicted;
            }

            default:
            {
                Rsb.Push(site + CallLength);
                var overhead = mitigation switch
                {
                    Mitigation.Eibrs => p.EibrsIndirectOverhead,
                    Mitigation.Ibrs => p.IbrsIndirectOverhead,
                    _ => 0.0,
                };
                Account.Charge(p.PredictedIndirectCall + overhead);
                var predicted = Btb.Predict(site, target);
                if (!predicted)
                    Mispredict(p.MispredictPenalty);
                return predicted;
            }
        }
    }

    /// <summary>
    /// One compare-and-branch of an INDIRECT_CALL guard at <paramref name="site"/> (candidate <paramref name="index"/>);
    /// its direction is predicted like any branch. Returns true when predicted.
    /// </summary>
    public bool GuardCompare(ulong site, int index, bool taken)
    {
        Account.Charge(Profile.GuardCompare);
        var predicted = Btb.Predict(site + 0x100 + (ulong)index, taken ? 1UL : 0UL);
        if (!predicted)
            Mispredict(Profile.MispredictPenalty);
        return predicted;
    }

    /// <summary>The target's <c>ret</c> back to <paramref name="site"/>: predicted by the RSB, or on underflow per profile.</summary>
    public void Return(ulong site)
    {
        var actual = site + CallLength;
        if (Rsb.TryPop(out var predicted))
        {
            if (predicted != actual)
                Mispredict(Profile.MispredictPenalty);
            return;
        }

        Account.CountRsbUnderflow();
        if (Profile.RsbUnderflow == RsbUnderflow.Mispredict || !Btb.Predict(site ^ ReturnBranchSalt, actual))
            Mispredict(Profile.MispredictPenalty);
    }

    /// <summary>A text_poke_bp run by this CPU (three writes, three sync IPIs).</summary>
    public void TextPoke()
    {
        Account.CountTextPoke();
        Account.Charge(Profile.TextPoke);
    }

    /// <summary>Forgets predictor state and zeroes the account.</summary>
    public void Reset()
    {
        Btb.Flush();
        Rsb.Clear();
        Account.Reset();
    }

    private void Call(ulong site, double cycles)
    {
        Account.CountCall();
        Account.Charge(cycles);
        Rsb.Push(site + CallLength);
    }

    private void Mispredict(double penalty)
    {
        Account.CountMispredict();
        Account.Charge(penalty);
    }
}
