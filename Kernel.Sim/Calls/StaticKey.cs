using System.Runtime.CompilerServices;
using Kernel.Sim.Cpu;

namespace Kernel.Sim.Calls;

/// <summary>
/// A static key (include/linux/jump_label.h): a reference-counted boolean whose branch sites are NOPs or jumps patched
/// into the code. <c>DEFINE_STATIC_KEY_TRUE/FALSE</c> is the constructor; <see cref="Enable"/>, <see cref="Disable"/>,
/// <see cref="Inc"/> and <see cref="Dec"/> follow static_branch_enable/disable and static_branch_inc/dec: only the
/// 0↔1 transitions patch the sites, each through text_poke_bp.
/// </summary>
public sealed class StaticKey
{
    private readonly object _mutex = new();
    private readonly List<StaticBranch> _branches = [];
    private readonly CostModel? _model;
    private bool _enabled;
    private int _count;

    /// <param name="name">Key name.</param>
    /// <param name="initiallyEnabled">true for DEFINE_STATIC_KEY_TRUE (count 1), false for DEFINE_STATIC_KEY_FALSE.</param>
    /// <param name="model">The cost model branch sites charge.</param>
    public StaticKey(string name, bool initiallyEnabled, CostModel? model = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _enabled = initiallyEnabled;
        _count = initiallyEnabled ? 1 : 0;
        _model = model;
    }

    /// <summary>Key name.</summary>
    public string Name { get; }

    /// <summary><c>static_key_enabled</c>.</summary>
    public bool IsEnabled => Volatile.Read(ref _enabled);

    /// <summary><c>static_key_count</c>.</summary>
    public int Count
    {
        get
        {
            lock (_mutex)
                return _count;
        }
    }

    internal CostModel? Model => _model;

    /// <summary>A <c>static_branch_likely(&amp;key)</c> site: laid out for the key being true.</summary>
    public StaticBranch Likely(string site) => AddBranch(site, likely: true);

    /// <summary>A <c>static_branch_unlikely(&amp;key)</c> site: laid out for the key being false.</summary>
    public StaticBranch Unlikely(string site) => AddBranch(site, likely: false);

    /// <summary><c>static_branch_enable</c>: count becomes 1 if it was 0.</summary>
    public void Enable()
    {
        lock (_mutex)
        {
            if (_count == 0)
                Set(1);
        }
    }

    /// <summary><c>static_branch_disable</c>: count becomes 0.</summary>
    public void Disable()
    {
        lock (_mutex)
        {
            if (_count != 0)
                Set(0);
        }
    }

    /// <summary><c>static_branch_inc</c>: the first reference enables the key.</summary>
    public void Inc()
    {
        lock (_mutex)
            Set(_count + 1);
    }

    /// <summary><c>static_branch_dec</c>: the last reference disables it. Decrementing a zero count is refused.</summary>
    public void Dec()
    {
        lock (_mutex)
        {
            if (_count == 0)
                throw new InvalidOperationException($"static key {Name}: static_branch_dec with a zero count");
            Set(_count - 1);
        }
    }

    private void Set(int count)
    {
        var enable = count > 0;
        _count = count;
        if (enable == _enabled)
            return;
        foreach (var branch in _branches)
            branch.Patch(enable);
        Volatile.Write(ref _enabled, enable);
    }

    private StaticBranch AddBranch(string site, bool likely)
    {
        lock (_mutex)
        {
            var branch = new StaticBranch(this, site, likely, _enabled);
            _branches.Add(branch);
            return branch;
        }
    }
}

/// <summary>
/// One static branch site of a <see cref="StaticKey"/>: a 5-byte NOP while the key is in the state the code was laid
/// out for (true for likely, false for unlikely), a <c>jmp</c> to the out-of-line block otherwise.
/// </summary>
public sealed class StaticBranch
{
    private readonly StaticKey _key;

    internal StaticBranch(StaticKey key, string name, bool likely, bool enabled)
    {
        _key = key;
        Likely = likely;
        var address = KernelText.AddressOf(name);
        Site = new PatchSite(name, address, Bytes(address, enabled));
    }

    /// <summary>true for static_branch_likely, false for static_branch_unlikely.</summary>
    public bool Likely { get; }

    /// <summary>The site's bytes.</summary>
    public PatchSite Site { get; }

    /// <summary>Evaluates the branch: the key's state, for one predictable branch (plus a modelled NOP or jmp when on).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Test()
    {
        var enabled = _key.IsEnabled;
        if (_key.Model is { Enabled: true } model)
            model.Current.StaticBranch(jumps: enabled != Likely);
        return enabled;
    }

    internal void Patch(bool enabled) => TextPoke.Poke(Site, Bytes(Site.Address, enabled), model: _key.Model);

    // The jump skips over the in-line block to the out-of-line one; its destination only has to be stable.
    private byte[] Bytes(ulong address, bool enabled) =>
        enabled == Likely ? PatchSite.Nop() : PatchSite.Branch(address, address + 0x40, call: false);
}
