namespace Kernel.Sim.Cpu;

/// <summary>
/// The return stack buffer: a small circular stack of predicted return addresses. A call pushes (overwriting the
/// oldest entry when full, as hardware does); a return pops. Popping an empty RSB is an underflow, after which the
/// CPU predicts per <see cref="RsbUnderflow"/>. The generic retpoline uses it on purpose: its inner call pushes the
/// address of a speculation trap, so the <c>ret</c> that really goes to the target is always mispredicted.
/// </summary>
public sealed class ReturnStackBuffer
{
    private readonly ulong[] _entries;
    private int _top;

    public ReturnStackBuffer(int depth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        _entries = new ulong[depth];
    }

    /// <summary>Number of entries.</summary>
    public int Depth => _entries.Length;

    /// <summary>Valid entries (0..<see cref="Depth"/>).</summary>
    public int Count { get; private set; }

    /// <summary>Pushes a return address; the oldest entry is lost when the buffer is full.</summary>
    public void Push(ulong returnAddress)
    {
        _entries[_top] = returnAddress;
        _top = (_top + 1) % _entries.Length;
        if (Count < _entries.Length)
            Count++;
    }

    /// <summary>Pops the predicted return address; false on underflow.</summary>
    public bool TryPop(out ulong predicted)
    {
        if (Count == 0)
        {
            predicted = 0;
            return false;
        }

        _top = (_top + _entries.Length - 1) % _entries.Length;
        Count--;
        predicted = _entries[_top];
        return true;
    }

    /// <summary>Empties the buffer (RSB stuffing's opposite; used on a simulated context switch).</summary>
    public void Clear()
    {
        Count = 0;
        _top = 0;
    }
}
