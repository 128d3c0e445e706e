using Kernel.Sim.Bpf.Maps;

namespace Kernel.Sim.Tests.Bpf.Maps;

public sealed unsafe class PerfEventArrayMapTests
{
    [Test]
    public void Output_goes_to_the_current_cpus_buffer_as_a_padded_raw_sample()
    {
        using var k = new MapTestKernel(cpus: 2);
        var map = (PerfEventArrayMap)k.Create(BpfMapType.PerfEventArray, 4, 4, 2);
        var buffer = map.OpenBuffer(1, cpu: 1, pages: 1);
        var data = stackalloc byte[] { 1, 2, 3, 4, 5 };
        Assert.That(map.Output(1, PerfEventArrayMap.BPF_F_CURRENT_CPU, data, 5), Is.Zero);
        // header 8 + u32 size + 5 bytes, padded to 8: 24 bytes; the raw size reported includes the padding.
        Assert.That(buffer.Pending, Is.EqualTo(24));
        var samples = new List<byte[]>();
        Assert.That(buffer.Consume(s => samples.Add(s.ToArray())), Is.EqualTo(1));
        Assert.That(samples.Single(), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0 }));
    }

    [Test]
    public void Output_errors_are_linuxs()
    {
        using var k = new MapTestKernel(cpus: 2);
        var map = (PerfEventArrayMap)k.Create(BpfMapType.PerfEventArray, 4, 4, 2);
        map.OpenBuffer(0, cpu: 0);
        var data = stackalloc byte[8];
        Assert.That(map.Output(0, 1UL << 40, data, 8), Is.EqualTo(-BpfErrno.EINVAL));
        Assert.That(map.Output(0, 5, data, 8), Is.EqualTo(-BpfErrno.E2BIG));
        Assert.That(map.Output(1, PerfEventArrayMap.BPF_F_CURRENT_CPU, data, 8), Is.EqualTo(-BpfErrno.ENOENT));
        Assert.That(map.Output(1, 0, data, 8), Is.EqualTo(-BpfErrno.EOPNOTSUPP), "slot 0's event is bound to CPU 0");
        Assert.That(map.Output(0, 0, data, 8), Is.Zero);
    }

    [Test]
    public void A_full_buffer_loses_samples_and_reports_them_before_the_next_one()
    {
        using var k = new MapTestKernel();
        var map = (PerfEventArrayMap)k.Create(BpfMapType.PerfEventArray, 4, 4, 1);
        var buffer = map.OpenBuffer(0, cpu: 0, pages: 1);
        var data = stackalloc byte[116]; // 8 + 4 + 116 = 128 bytes per record: 32 fit in a page
        for (var i = 0; i < 32; i++)
            Assert.That(map.Output(0, 0, data, 116), Is.Zero);
        Assert.That(map.Output(0, 0, data, 116), Is.EqualTo(-BpfErrno.ENOSPC));
        Assert.That(map.Output(0, 0, data, 116), Is.EqualTo(-BpfErrno.ENOSPC));
        Assert.That(buffer.Lost, Is.EqualTo(2));
        var order = new List<string>();
        buffer.Consume(_ => order.Add("sample"), lost => order.Add($"lost {lost}"));
        Assert.That(order, Has.Count.EqualTo(32));
        Assert.That(map.Output(0, 0, data, 116), Is.Zero);
        order.Clear();
        buffer.Consume(_ => order.Add("sample"), lost => order.Add($"lost {lost}"));
        Assert.That(order, Is.EqualTo(new[] { "lost 2", "sample" }));
    }
}
