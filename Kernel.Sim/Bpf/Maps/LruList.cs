namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// The eviction order of an LRU hash, after Linux's common bpf_lru_list (kernel/bpf/bpf_lru_list.c): every element
/// sits on one of three lists (free, active, inactive) and carries a reference bit that a lookup sets without a lock.
/// A new element goes to the head of the inactive list. When no element is free, the list is shrunk:
/// <list type="number">
/// <item>if the inactive list is shorter than the active one, up to nr_scans elements from the active tail move:
///   referenced ones back to the active head (bit cleared), the others to the inactive head
///   (__bpf_lru_list_rotate_active);</item>
/// <item>from the inactive tail, up to nr_scans elements: referenced ones move to the active head (bit cleared),
///   the first unreferenced one still in the table is evicted (__bpf_lru_list_shrink_inactive);</item>
/// <item>if nothing was evicted, the first element (inactive tail, then active tail) that is still in the table is
///   evicted regardless of its bit (the forced shrink).</item>
/// </list>
/// What KernelSim does not model: the per-CPU local free and pending lists (BPF_F_NO_COMMON_LRU and the
/// LOCAL_FREE_TARGET batches of 128), so one eviction frees exactly one element and the order is deterministic.
/// </summary>
internal sealed class LruList
{
    /// <summary>LOCAL_NR_SCANS: the most elements one rotation or shrink looks at.</summary>
    public const int LocalNrScans = 128;

    private const byte FreeList = 0, ActiveList = 1, InactiveList = 2;

    private readonly HashMap _owner;
    private readonly int _nodes;
    private readonly int _nrScans;
    private readonly int[] _prev;
    private readonly int[] _next;
    private readonly byte[] _list;
    private readonly byte[] _ref;
    private readonly int[] _counts = new int[3];
    private readonly Lock _lock = new();
    private long _evictions;

    public LruList(HashMap owner, int nodes, int nrScans)
    {
        _owner = owner;
        _nodes = nodes;
        _nrScans = nrScans;
        // Nodes 0..n-1 are elements; n, n+1, n+2 are the sentinels of the free, active and inactive lists.
        _prev = new int[nodes + 3];
        _next = new int[nodes + 3];
        _list = new byte[nodes + 3];
        _ref = new byte[nodes];
        for (var l = 0; l < 3; l++)
        {
            _prev[nodes + l] = nodes + l;
            _next[nodes + l] = nodes + l;
        }

        for (var i = nodes - 1; i >= 0; i--)
            LinkHead(i, FreeList);
    }

    /// <summary>Elements not on the free list.</summary>
    public int InUse
    {
        get
        {
            lock (_lock)
                return _nodes - _counts[FreeList];
        }
    }

    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>bpf_lru_node_set_ref: lock-free, only written when not already set (keeps the cache line clean).</summary>
    public void SetRef(int index)
    {
        if (_ref[index] == 0)
            _ref[index] = 1;
    }

    /// <summary>Takes a free element (evicting one when none is free) and puts it at the inactive head; -1 if impossible.</summary>
    public int Pop()
    {
        lock (_lock)
        {
            if (_counts[FreeList] == 0 && !Shrink())
                return -1;
            var node = _next[_nodes + FreeList];
            _ref[node] = 0;
            Move(node, InactiveList);
            return node;
        }
    }

    /// <summary>Returns an element to the free list (after a delete, or a failed update). Idempotent.</summary>
    public void Free(int index)
    {
        lock (_lock)
        {
            if (_list[index] == FreeList)
                return;
            _ref[index] = 0;
            Move(index, FreeList);
        }
    }

    private bool Shrink()
    {
        if (_counts[InactiveList] < _counts[ActiveList])
        {
            var node = _prev[_nodes + ActiveList];
            for (var i = 0; i < _nrScans && node != _nodes + ActiveList; i++)
            {
                var prev = _prev[node];
                var referenced = _ref[node] != 0;
                _ref[node] = 0;
                Move(node, referenced ? ActiveList : InactiveList);
                node = prev;
            }
        }

        var candidate = _prev[_nodes + InactiveList];
        for (var i = 0; i < _nrScans && candidate != _nodes + InactiveList; i++)
        {
            var prev = _prev[candidate];
            if (_ref[candidate] != 0)
            {
                _ref[candidate] = 0;
                Move(candidate, ActiveList);
            }
            else if (Evict(candidate))
            {
                return true;
            }

            candidate = prev;
        }

        foreach (var list in (ReadOnlySpan<byte>)[InactiveList, ActiveList])
        {
            for (var node = _prev[_nodes + list]; node != _nodes + list; node = _prev[node])
            {
                if (Evict(node))
                    return true;
            }
        }

        return false;
    }

    // An element between its pop and its insertion (or being deleted) is not in the table: it is skipped.
    private bool Evict(int node)
    {
        if (!_owner.DeleteNode(node))
            return false;
        _ref[node] = 0;
        Move(node, FreeList);
        _evictions++;
        return true;
    }

    private void Move(int node, byte list)
    {
        _counts[_list[node]]--;
        _next[_prev[node]] = _next[node];
        _prev[_next[node]] = _prev[node];
        LinkHead(node, list);
    }

    private void LinkHead(int node, byte list)
    {
        var head = _nodes + list;
        _next[node] = _next[head];
        _prev[node] = head;
        _prev[_next[head]] = node;
        _next[head] = node;
        _list[node] = list;
        _counts[list]++;
    }
}
