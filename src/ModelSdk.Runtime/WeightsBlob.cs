using System.Buffers.Binary;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ModelSdk.Runtime;

/// <summary>
/// A model's weights, loaded once into pinned, 64-byte aligned memory. The blob a build writes is a
/// 64-byte header (<see cref="HeaderSize"/>) followed by the payload that plan offsets refer to.
/// </summary>
public sealed class WeightsBlob
{
    /// <summary>Size of the header that precedes the payload.</summary>
    public const int HeaderSize = 64;

    /// <summary>Alignment of the payload in memory and of every tensor offset in it.</summary>
    public const int Alignment = AlignedBuffer.Alignment;

    private static ReadOnlySpan<byte> Magic => "MSDKWTS1"u8;

    private readonly byte[] _buffer;
    private readonly int _start;
    private readonly int _length;

    private WeightsBlob(byte[] buffer, int start, int length)
    {
        _buffer = buffer;
        _start = start;
        _length = length;
    }

    /// <summary>An empty blob, for models without weights.</summary>
    public static WeightsBlob Empty { get; } = new([], 0, 0);

    /// <summary>Payload size in bytes.</summary>
    public int Length => _length;

    /// <summary>The payload.</summary>
    public ReadOnlySpan<byte> Bytes => new(_buffer, _start, _length);

    /// <summary>Elements of one weight tensor.</summary>
    /// <param name="offset">Byte offset in the payload.</param>
    /// <param name="count">Number of elements.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<T> Get<T>(int offset, int count) where T : unmanaged
        => MemoryMarshal.Cast<byte, T>(new ReadOnlySpan<byte>(_buffer, _start + offset, count * Unsafe.SizeOf<T>()));

    /// <summary>Writes the header for <paramref name="payload"/>; the build calls this, so header and loader cannot disagree.</summary>
    public static byte[] CreateHeader(ReadOnlySpan<byte> payload)
    {
        var header = new byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), payload.Length);
        SHA256.HashData(payload, header.AsSpan(16, 32));
        return header;
    }

    /// <summary>Loads the blob that the build embedded as a manifest resource of <paramref name="assembly"/>.</summary>
    /// <param name="assembly">The assembly that contains the generated model class.</param>
    /// <param name="resourceName">The resource's logical name.</param>
    /// <param name="expectedLength">Payload length recorded in the plan.</param>
    /// <param name="expectedSha256">Payload SHA-256 recorded in the plan (lower-case hex).</param>
    public static WeightsBlob FromResource(Assembly assembly, string resourceName, long expectedLength, string expectedSha256)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        using Stream? stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException(
                $"The weights resource '{resourceName}' is missing from assembly '{assembly.GetName().Name}'. " +
                "It is embedded by the ModelSdk build targets; rebuild the project that declares the <OnnxModel> item.");
        return FromStream(stream, resourceName, expectedLength, expectedSha256);
    }

    /// <summary>
    /// Loads the blob that the build embedded as a manifest resource of <paramref name="assembly"/>, for a plan
    /// that stores some float32 weights as float16 or bfloat16: they are widened once, here.
    /// </summary>
    /// <param name="assembly">The assembly that contains the generated model class.</param>
    /// <param name="resourceName">The resource's logical name.</param>
    /// <param name="expectedLength">Payload length recorded in the plan.</param>
    /// <param name="expectedSha256">Payload SHA-256 recorded in the plan (lower-case hex).</param>
    /// <param name="loadedLength">Size of the weights once loaded, recorded in the plan.</param>
    /// <param name="narrow">The buffers stored narrower than float32.</param>
    public static WeightsBlob FromResource(Assembly assembly, string resourceName, long expectedLength, string expectedSha256, long loadedLength, NarrowWeights[] narrow)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        using Stream? stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException(
                $"The weights resource '{resourceName}' is missing from assembly '{assembly.GetName().Name}'. " +
                "It is embedded by the ModelSdk build targets; rebuild the project that declares the <OnnxModel> item.");
        return FromStream(stream, resourceName, expectedLength, expectedSha256, loadedLength, narrow);
    }

    /// <summary>Loads a blob from a stream positioned at its header.</summary>
    public static WeightsBlob FromStream(Stream stream, string description, long expectedLength, string expectedSha256)
        => FromStream(stream, description, expectedLength, expectedSha256, expectedLength, []);

    /// <summary>
    /// Loads a blob from a stream positioned at its header and widens the buffers of <paramref name="narrow"/>
    /// (see <see cref="Widen"/>) into weights of <paramref name="loadedLength"/> bytes.
    /// </summary>
    public static WeightsBlob FromStream(Stream stream, string description, long expectedLength, string expectedSha256, long loadedLength, ReadOnlySpan<NarrowWeights> narrow)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[HeaderSize];
        stream.ReadExactly(header);
        long length = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        string sha = Convert.ToHexStringLower(header.Slice(16, 32));
        if (!header[..8].SequenceEqual(Magic) || length != expectedLength || sha != expectedSha256)
        {
            throw new InvalidOperationException(
                $"The weights '{description}' do not belong to this model class (stale build output?). Rebuild the project.");
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ModelSdk weights are little-endian; this platform is big-endian.");
        }

        if (loadedLength == 0)
        {
            return Empty;
        }

        if (loadedLength > Array.MaxLength - Alignment || loadedLength < length)
        {
            throw new InvalidOperationException($"The weights '{description}' are too large to load ({loadedLength} bytes).");
        }

        if (narrow.IsEmpty && loadedLength == length)
        {
            byte[] buffer = AlignedBuffer.Allocate((int)length, zeroed: false, out int start);
            stream.ReadExactly(buffer.AsSpan(start, (int)length));
            return new WeightsBlob(buffer, start, (int)length);
        }

        byte[] payload = GC.AllocateUninitializedArray<byte>((int)length);
        stream.ReadExactly(payload);
        byte[] loaded = AlignedBuffer.Allocate((int)loadedLength, zeroed: true, out int loadedStart);
        Widen(payload, loaded.AsSpan(loadedStart, (int)loadedLength), narrow);
        return new WeightsBlob(loaded, loadedStart, (int)loadedLength);
    }

    /// <summary>
    /// Turns a payload into the weights in memory: the payload is copied to the start of <paramref name="loaded"/>,
    /// then each buffer of <paramref name="narrow"/> is widened from its place in the payload to its place in
    /// <paramref name="loaded"/> (the plan puts those places after every weight stored as it is). The compiler's
    /// executor loads weights through this method too, so build-time and run-time weights are the same.
    /// </summary>
    public static void Widen(ReadOnlySpan<byte> payload, Span<byte> loaded, ReadOnlySpan<NarrowWeights> narrow)
    {
        if (loaded.Length < payload.Length)
        {
            throw new ArgumentException("The loaded weights are smaller than the payload.", nameof(loaded));
        }

        payload.CopyTo(loaded);
        foreach (NarrowWeights n in narrow)
        {
            if (n.Count < 0 || n.StoredOffset < 0 || n.Offset < 0
                || (long)n.StoredOffset + (2L * n.Count) > payload.Length || (long)n.Offset + (4L * n.Count) > loaded.Length)
            {
                throw new InvalidOperationException($"The narrow weights at offset {n.StoredOffset} lie outside the weights (stale build output?). Rebuild the project.");
            }

            ReadOnlySpan<ushort> source = MemoryMarshal.Cast<byte, ushort>(payload.Slice(n.StoredOffset, 2 * n.Count));
            Span<float> destination = MemoryMarshal.Cast<byte, float>(loaded.Slice(n.Offset, 4 * n.Count));
            if (n.Format == NarrowFormat.Float16)
            {
                NarrowFloat.WidenFloat16(source, destination);
            }
            else
            {
                NarrowFloat.WidenBFloat16(source, destination);
            }
        }
    }
}

/// <summary>The 16-bit float formats weights may be stored in.</summary>
public enum NarrowFormat
{
    /// <summary>IEEE 754 binary16.</summary>
    Float16,
    /// <summary>bfloat16: the upper half of a float32.</summary>
    BFloat16,
}

/// <summary>A weights buffer the payload stores narrower than float32, and where it goes once widened.</summary>
/// <param name="StoredOffset">Byte offset in the payload.</param>
/// <param name="Offset">Byte offset in the loaded weights.</param>
/// <param name="Count">Number of elements.</param>
/// <param name="Format">The stored format.</param>
public readonly record struct NarrowWeights(int StoredOffset, int Offset, int Count, NarrowFormat Format);
