using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelSdk.Runtime;

/// <summary>
/// The scratch memory of one model instance: every intermediate tensor lives at an offset fixed by
/// the build's memory plan. Allocated once, pinned and 64-byte aligned. One run at a time may use
/// it: <see cref="Enter"/> fails fast when a second thread runs the same instance concurrently.
/// </summary>
public sealed class Arena
{
    private readonly byte[] _buffer;
    private readonly int _start;
    private readonly int _length;
    private int _busy;

    /// <summary>Allocates an arena of <paramref name="bytes"/> bytes.</summary>
    public Arena(long bytes)
    {
        if (bytes < 0 || bytes > Array.MaxLength - AlignedBuffer.Alignment)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "The arena size is out of range.");
        }

        _length = (int)bytes;
        _buffer = AlignedBuffer.Allocate(_length, zeroed: true, out _start);
    }

    /// <summary>Size in bytes.</summary>
    public int Length => _length;

    /// <summary>The elements of one tensor.</summary>
    /// <param name="offset">Byte offset in the arena.</param>
    /// <param name="count">Number of elements.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Get<T>(int offset, int count) where T : unmanaged
        => MemoryMarshal.Cast<byte, T>(new Span<byte>(_buffer, _start + offset, count * Unsafe.SizeOf<T>()));

    /// <summary>Marks the arena in use; throws if another run holds it.</summary>
    public void Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException(
                "This model instance is already running on another thread. A model instance is not thread-safe: create one instance per thread.");
        }
    }

    /// <summary>Releases the arena after a run.</summary>
    public void Exit() => Volatile.Write(ref _busy, 0);
}
