using Kernel.Sim.Bpf.Isa;
using static Kernel.Sim.Bpf.Isa.Opcodes;

namespace Kernel.Sim.Bpf.Asm;

/// <summary>Loads, stores, atomics, packet loads and lddw with a pseudo source: everything that names memory.</summary>
internal sealed partial class LlvmLineParser
{
    // dst = *(u32 *)(rS + off), dst = *(s16 *)(rS + off), r0 = *(u8 *)skb[...]
    private void ParseLoad(Reg dst, List<Instruction> program)
    {
        _pos++;
        var (size, signed, typeColumn) = ParsePointerType();
        if (!AtEnd && tokens[_pos].IsWord("skb"))
        {
            ParsePacketLoad(dst, size, signed, typeColumn, program);
            return;
        }

        var address = ParseAddress();
        if (signed && size == BPF_DW)
            throw Error(typeColumn, "there is no sign-extending 64-bit load");
        if (dst.Is32 && (signed || size == BPF_DW))
            throw Error(dst.Column, $"a {(signed ? "sign-extending" : "64-bit")} load needs a 64-bit destination register");
        var mode = signed ? BPF_MEMSX : BPF_MEM;
        program.Add(new Instruction((byte)(BPF_LDX | mode | size), dst.Number, address.Base, address.Offset, 0));
    }

    private void ParsePacketLoad(Reg dst, byte size, bool signed, int typeColumn, List<Instruction> program)
    {
        _pos++;
        if (signed || size == BPF_DW)
            throw Error(typeColumn, "packet loads (skb[...]) take u8, u16 or u32");
        if (dst.Number != 0 || dst.Is32)
            throw Error(dst.Column, "packet loads (skb[...]) always write r0");
        Expect("[");
        if (PeekRegister(out var index))
        {
            _pos++;
            RequireWide(index, "a packet index");
            var imm = 0;
            if (!AtEnd && (tokens[_pos].Is("+") || tokens[_pos].Is("-")))
                imm = ExpectImm32();
            Expect("]");
            program.Add(new Instruction((byte)(BPF_LD | BPF_IND | size), 0, index.Number, 0, imm));
            return;
        }

        var offset = ExpectImm32();
        Expect("]");
        program.Add(new Instruction((byte)(BPF_LD | BPF_ABS | size), 0, 0, 0, offset));
    }

    // rS = atomic_fetch_add((u64 *)(rD + off), rS)
    private void ParseAtomicFetch(Reg result, List<Instruction> program)
    {
        var name = tokens[_pos++];
        Expect("(");
        Expect("(");
        var (size, signed, typeColumn) = ParsePointerTypeBody();
        var address = ParseAddress();
        Expect(",");
        var src = ExpectRegister();
        Expect(")");
        var op = LlvmSyntax.AtomicOperations.First(a => "atomic_fetch_" + a.Name == name.Text).Op;
        RequireAtomicOperand(size, signed, typeColumn, src);
        if (src.Number != result.Number || src.Is32 != result.Is32)
            throw Error(result.Column, $"the fetched value goes to the source register: write {Name(src)} = {name.Text}(..., {Name(src)})");
        program.Add(new Instruction((byte)(BPF_STX | BPF_ATOMIC | size), address.Base, src.Number, address.Offset, op | BPF_FETCH));
    }

    // rS = xchg_64(rD + off, rS), r0 = cmpxchg_64(rD + off, r0, rS) and their 32-bit forms.
    private void ParseExchange(Reg result, List<Instruction> program)
    {
        var name = tokens[_pos++];
        var size = name.Text.Contains("32_32", StringComparison.Ordinal) ? BPF_W : BPF_DW;
        var compare = name.Text.StartsWith("cmp", StringComparison.Ordinal);
        Expect("(");
        var address = ParseAddressBody();
        Expect(",");
        if (compare)
        {
            var old = ExpectRegister();
            if (old.Number != 0)
                throw Error(old.Column, $"{name.Text} compares with r0: write {(size == BPF_W ? "w0" : "r0")} here");
            if (result.Number != 0)
                throw Error(result.Column, $"{name.Text} returns the old value in r0");
            Expect(",");
        }

        var src = ExpectRegister();
        Expect(")");
        RequireAtomicOperand(size, false, name.Column, src);
        if (size == BPF_W != result.Is32)
            throw Error(result.Column, $"{name.Text} returns a {(size == BPF_W ? "32" : "64")}-bit value: write {(size == BPF_W ? "w" : "r")}{result.Number}");
        if (!compare && src.Number != result.Number)
            throw Error(result.Column, $"the exchanged value goes to the source register: write {Name(src)} = {name.Text}(..., {Name(src)})");
        program.Add(new Instruction((byte)(BPF_STX | BPF_ATOMIC | size), address.Base, src.Number, address.Offset, compare ? BPF_CMPXCHG : BPF_XCHG));
    }

    // lock *(u64 *)(rD + off) += rS
    private void ParseLock(List<Instruction> program)
    {
        Expect("*");
        var (size, signed, typeColumn) = ParsePointerType();
        var address = ParseAddress();
        var opToken = Next("an atomic operator (+= |= &= ^=)");
        var op = Array.FindIndex(LlvmSyntax.AtomicOperations, a => opToken.Is(a.Operator));
        if (op < 0)
            throw Error(opToken.Column, $"expected an atomic operator (+= |= &= ^=), found '{opToken.Text}'");
        var src = ExpectRegister();
        RequireAtomicOperand(size, signed, typeColumn, src);
        program.Add(new Instruction((byte)(BPF_STX | BPF_ATOMIC | size), address.Base, src.Number, address.Offset, LlvmSyntax.AtomicOperations[op].Op));
    }

    // *(u32 *)(rD + off) = rS | imm
    private void ParseStore(List<Instruction> program)
    {
        _pos++;
        var (size, signed, typeColumn) = ParsePointerType();
        if (signed)
            throw Error(typeColumn, "stores take an unsigned type (u8, u16, u32, u64)");
        var address = ParseAddress();
        Expect("=");
        if (PeekRegister(out var src))
        {
            _pos++;
            if (src.Is32 && size == BPF_DW)
                throw Error(src.Column, $"a 64-bit store needs a 64-bit source register: write r{src.Number}");
            program.Add(new Instruction((byte)(BPF_STX | BPF_MEM | size), address.Base, src.Number, address.Offset, 0));
            return;
        }

        program.Add(new Instruction((byte)(BPF_ST | BPF_MEM | size), address.Base, 0, address.Offset, ExpectImm32()));
    }

    private void ParseLdPseudo(List<Instruction> program)
    {
        var dst = ExpectRegister();
        RequireWide(dst, "ld_pseudo");
        Expect(",");
        var srcToken = Peek("a pseudo source (1-6)");
        var src = ExpectInteger(0, 15, "pseudo source");
        if (src is < 1 or > 6)
            throw Error(srcToken.Column, $"ld_pseudo source {src} is not one of 1..6 (BPF_PSEUDO_MAP_FD..BPF_PSEUDO_MAP_IDX_VALUE)");
        Expect(",");
        var value = (ulong)ExpectInteger(long.MinValue, ulong.MaxValue, "immediate");
        var (lo, hi) = Instruction.LdImm64Pair(dst.Number, value, (byte)src);
        program.Add(lo);
        program.Add(hi);
    }

    // "(u32 *)" after a leading '*' was consumed.
    private (byte Size, bool Signed, int Column) ParsePointerType()
    {
        Expect("(");
        return ParsePointerTypeBody();
    }

    private (byte Size, bool Signed, int Column) ParsePointerTypeBody()
    {
        var type = Next("a type (u8, u16, u32, u64, s8, s16, s32)");
        if (type.Kind != LlvmTokenKind.Identifier || !LlvmSyntax.TryParseType(type.Text, out var size, out var signed))
            throw Error(type.Column, $"expected a type (u8, u16, u32, u64, s8, s16, s32), found '{type.Text}'");
        Expect("*");
        Expect(")");
        return (size, signed, type.Column);
    }

    private Address ParseAddress()
    {
        Expect("(");
        var address = ParseAddressBody();
        Expect(")");
        return address;
    }

    // rN + off, rN - off, rN +off (kernel log), or rN alone.
    private Address ParseAddressBody()
    {
        var reg = ExpectRegister();
        RequireWide(reg, "an address");
        if (AtEnd || !(tokens[_pos].Is("+") || tokens[_pos].Is("-")))
            return new Address(reg.Number, 0);
        var offset = ExpectInteger(short.MinValue, (ulong)short.MaxValue, "offset");
        return new Address(reg.Number, (short)offset);
    }

    private void RequireAtomicOperand(byte size, bool signed, int typeColumn, Reg src)
    {
        if (signed || size is not (BPF_W or BPF_DW))
            throw Error(typeColumn, "atomic operations take u32 or u64");
        if (size == BPF_DW && src.Is32)
            throw Error(src.Column, $"a 64-bit atomic operation needs a 64-bit register: write r{src.Number}");
    }
}
