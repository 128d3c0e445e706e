using Iced.Intel;

namespace Kernel.Sim.Native;

/// <summary>Assembles one Iced <see cref="Assembler"/> at a fixed address into bytes, keeping label addresses.</summary>
internal sealed class CodeBuffer : CodeWriter
{
    private readonly List<byte> _bytes = [];

    private CodeBuffer()
    {
    }

    public byte[] Bytes => [.. _bytes];

    public override void WriteByte(byte value) => _bytes.Add(value);

    /// <summary>Encodes <paramref name="assembler"/> as if placed at <paramref name="rip"/>.</summary>
    public static (byte[] Bytes, AssemblerResult Result) Assemble(Assembler assembler, ulong rip)
    {
        var buffer = new CodeBuffer();
        var result = assembler.Assemble(buffer, rip, BlockEncoderOptions.ReturnNewInstructionOffsets);
        return (buffer.Bytes, result);
    }
}
