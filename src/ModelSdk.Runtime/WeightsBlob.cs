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

    /// <summary>Loads a blob from a stream positioned at its header.</summary>
    public static WeightsBlob FromStream(Stream stream, string description, long expectedLength, string expectedSha256)
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

        if (length == 0)
        {
            return Empty;
        }

        if (length > Array.MaxLength - Alignment)
        {
            throw new InvalidOperationException($"The weights '{description}' are too large to load ({length} bytes).");
        }

        byte[] buffer = AlignedBuffer.Allocate((int)length, zeroed: false, out int start);
        stream.ReadExactly(buffer.AsSpan(start, (int)length));
        return new WeightsBlob(buffer, start, (int)length);
    }
}
