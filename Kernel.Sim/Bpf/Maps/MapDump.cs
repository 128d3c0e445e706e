using System.Globalization;
using System.Text;

namespace Kernel.Sim.Bpf.Maps;

/// <summary>
/// <c>bpftool map dump -j</c> without BTF: a JSON array of <c>{"key":["0x00",...],"value":["0x01",...]}</c> objects
/// with every byte as a "0x%02hhx" string, in get_next_key order; per-CPU maps give
/// <c>"values":[{"cpu":0,"value":[...]},...]</c> instead of "value". Keys whose lookup fails (an empty prog array
/// slot) are left out. Ring buffers and perf event arrays cannot be dumped (bpftool refuses them too).
/// </summary>
public static class MapDump
{
    /// <summary>The JSON text (compact, as -j prints it; <paramref name="pretty"/> indents as -p does).</summary>
    public static string ToJson(BpfMap map, bool pretty = false)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Type is BpfMapType.Ringbuf or BpfMapType.PerfEventArray)
            throw new InvalidOperationException($"map '{map.Definition.Name}': {map.Type} maps cannot be dumped");
        var percpu = map.Type is BpfMapType.PercpuArray or BpfMapType.PercpuHash;
        var nl = pretty ? "\n" : "";
        var ind = pretty ? "    " : "";
        var sep = pretty ? ": " : ":";
        var sb = new StringBuilder("[");
        var value = new byte[map.UserValueSize];
        var first = true;
        foreach (var key in map.Keys())
        {
            if (map.LookupElem(key, value) != 0)
                continue;
            sb.Append(first ? "" : ",").Append(nl).Append(ind).Append('{').Append(nl);
            first = false;
            sb.Append(ind).Append(ind).Append("\"key\"").Append(sep);
            Bytes(sb, key, pretty);
            sb.Append(',').Append(nl).Append(ind).Append(ind);
            if (!percpu)
            {
                sb.Append("\"value\"").Append(sep);
                Bytes(sb, value, pretty);
            }
            else
            {
                var stride = map.UserValueSize / map.Cpus;
                sb.Append("\"values\"").Append(sep).Append('[');
                for (var cpu = 0; cpu < map.Cpus; cpu++)
                {
                    sb.Append(cpu == 0 ? "" : ",").Append("{\"cpu\"").Append(sep).Append(cpu.ToString(CultureInfo.InvariantCulture))
                        .Append(',').Append(pretty ? " " : "").Append("\"value\"").Append(sep);
                    Bytes(sb, value.AsSpan(cpu * stride, map.ValueSize), pretty);
                    sb.Append('}');
                }

                sb.Append(']');
            }

            sb.Append(nl).Append(ind).Append('}');
        }

        return sb.Append(first ? "" : nl).Append(']').ToString();
    }

    private static void Bytes(StringBuilder sb, ReadOnlySpan<byte> bytes, bool pretty)
    {
        sb.Append('[');
        for (var i = 0; i < bytes.Length; i++)
        {
            if (i > 0)
                sb.Append(pretty ? "," : ",").Append(pretty ? " " : "");
            sb.Append("\"0x").Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture)).Append('"');
        }

        sb.Append(']');
    }
}
