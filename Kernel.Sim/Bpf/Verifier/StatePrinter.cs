using System.Text;
using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Bpf.Verifier;

/// <summary>
/// Register and stack state in the verifier log's words (print_verifier_state, print_reg_state and
/// print_scalar_ranges of Linux 6.x): <c>R1=ctx() R2=fp-8 R0=map_value_or_null(id=1,ks=4,vs=8) fp-8=0</c>.
/// </summary>
public static class StatePrinter
{
    private const string SlotChars = "?rm0";

    /// <summary>Appends the state of one frame: every register and slot, or only those marked scratched.</summary>
    public static void AppendFrame(StringBuilder sb, FuncState frame, IReadOnlyList<MapDefinition> maps, bool all)
    {
        if (frame.FrameNo != 0)
            sb.Append(" frame").Append(frame.FrameNo).Append(':');
        for (var i = 0; i < FuncState.RegCount; i++)
        {
            ref var reg = ref frame.Regs[i];
            if (reg.Type == RegType.NotInit || (!all && (frame.ScratchedRegs & (1 << i)) == 0))
                continue;
            sb.Append(" R").Append(i).Append('=');
            AppendReg(sb, reg, frame.FrameNo, maps);
        }

        for (var spi = 0; spi < frame.AllocatedStack / 8; spi++)
        {
            if (!all && (frame.ScratchedSlots & (1UL << spi)) == 0)
                continue;
            var slot = frame.Stack[spi];
            if (slot.Types == 0)
                continue;
            sb.Append(" fp").Append((-spi - 1) * 8).Append('=');
            if (slot[7] == StackByte.Spill)
            {
                for (var j = 0; j < 8 && slot[j] != StackByte.Spill; j++)
                    sb.Append(SlotChars[(int)slot[j]]);
                AppendReg(sb, slot.Spilled, frame.FrameNo, maps);
            }
            else
            {
                for (var j = 0; j < 8; j++)
                    sb.Append(SlotChars[(int)slot[j]]);
            }
        }
    }

    /// <summary>One register's value as print_reg_state prints it.</summary>
    public static string RegText(in RegState reg, int curFrame, IReadOnlyList<MapDefinition> maps)
    {
        var sb = new StringBuilder();
        AppendReg(sb, reg, curFrame, maps);
        return sb.ToString();
    }

    public static void AppendReg(StringBuilder sb, in RegState reg, int curFrame, IReadOnlyList<MapDefinition> maps)
    {
        var t = reg.Type;
        if (t == RegType.Scalar && reg.VarOff.IsConst)
        {
            Snum(sb, (long)reg.VarOff.Value);
            return;
        }

        sb.Append(RegTypeNames.Name(t));
        if (t == RegType.PtrToStack)
        {
            if (reg.FrameNo != curFrame)
                sb.Append('[').Append(reg.FrameNo).Append(']');
            if (reg.VarOff.IsConst)
            {
                Snum(sb, (long)reg.VarOff.Value + reg.Off);
                return;
            }
        }

        sb.Append('(');
        var sep = string.Empty;
        if (reg.Id != 0)
        {
            sb.Append(sep).Append("id=").Append(reg.Id);
            sep = ",";
        }

        if (t is RegType.ConstPtrToMap or RegType.PtrToMapValue or RegType.PtrToMapValueOrNull or RegType.PtrToMapKey &&
            reg.MapIndex >= 0 && reg.MapIndex < maps.Count)
        {
            var map = maps[reg.MapIndex];
            if (map.Name.Length > 0)
            {
                sb.Append(sep).Append("map=").Append(map.Name);
                sep = ",";
            }

            sb.Append(sep).Append("ks=").Append(map.KeySize).Append(",vs=").Append(map.ValueSize);
            sep = ",";
        }

        if (t != RegType.Scalar && reg.Off != 0)
        {
            sb.Append(sep).Append("off=");
            Snum(sb, reg.Off);
            sep = ",";
        }

        if (RegTypeNames.IsPacketPointer(t))
        {
            sb.Append(sep).Append("r=");
            Unum(sb, (ulong)reg.Range);
            sep = ",";
        }

        if (t is RegType.PtrToMem or RegType.PtrToMemOrNull)
        {
            sb.Append(sep).Append("sz=");
            Unum(sb, (ulong)reg.MemSize);
            sep = ",";
        }

        if (reg.VarOff.IsConst)
        {
            if (reg.VarOff.Value != 0)
            {
                sb.Append(sep).Append("imm=");
                Snum(sb, (long)reg.VarOff.Value);
            }
        }
        else
        {
            AppendRanges(sb, reg, ref sep);
            if (!reg.VarOff.IsUnknown)
                sb.Append(sep).Append("var_off=").Append(reg.VarOff.ToString());
        }

        sb.Append(')');
    }

    private static void AppendRanges(StringBuilder sb, in RegState reg, ref string sep)
    {
        Span<(string Name, ulong Val, bool Omit)> m =
        [
            ("smin", (ulong)reg.SMin, reg.SMin == long.MinValue),
            ("smax", (ulong)reg.SMax, reg.SMax == long.MaxValue),
            ("umin", reg.UMin, reg.UMin == 0),
            ("umax", reg.UMax, reg.UMax == ulong.MaxValue),
            ("smin32", (ulong)(long)reg.S32Min, reg.S32Min == int.MinValue),
            ("smax32", (ulong)(long)reg.S32Max, reg.S32Max == int.MaxValue),
            ("umin32", reg.U32Min, reg.U32Min == 0),
            ("umax32", reg.U32Max, reg.U32Max == uint.MaxValue),
        ];
        for (var a = 0; a < m.Length; a++)
        {
            if (m[a].Omit)
                continue;
            var neg1 = m[a].Name[0] == 's' && (long)m[a].Val < 0;
            sb.Append(sep).Append(m[a].Name).Append('=');
            sep = ",";
            // Later entries of the same kind (min with min, max with max) holding the same value share the number.
            for (var b = a + 2; b < m.Length; b += 2)
            {
                if (m[b].Omit)
                    continue;
                var neg2 = m[b].Name[0] == 's' && (long)m[b].Val < 0;
                if (neg1 == neg2 && m[a].Val == m[b].Val)
                {
                    sb.Append(m[b].Name).Append('=');
                    m[b].Omit = true;
                }
            }

            if (m[a].Name[0] == 's')
                Snum(sb, (long)m[a].Val);
            else
                Unum(sb, m[a].Val);
        }
    }

    /// <summary>verbose_snum: decimal within ±512, hex (two's complement) beyond.</summary>
    public static void Snum(StringBuilder sb, long v)
    {
        if (v >= -512 && v <= 512)
            sb.Append(v);
        else
            sb.Append("0x").Append(((ulong)v).ToString("x"));
    }

    /// <summary>verbose_unum: decimal up to 512, hex beyond.</summary>
    public static void Unum(StringBuilder sb, ulong v)
    {
        if (v <= 512)
            sb.Append(v);
        else
            sb.Append("0x").Append(v.ToString("x"));
    }
}
