using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelSdk.Runtime;

/// <summary>Pinned byte arrays whose usable region starts on a 64-byte boundary (a cache line, a Vector512).</summary>
internal static class AlignedBuffer
{
    public const int Alignment = 64;

    public static unsafe byte[] Allocate(int length, bool zeroed, out int start)
    {
        if (length == 0)
        {
            start = 0;
            return [];
        }

        byte[] buffer = zeroed
            ? GC.AllocateArray<byte>(length + Alignment, pinned: true)
            : GC.AllocateUninitializedArray<byte>(length + Alignment, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        start = (int)((Alignment - (address & (Alignment - 1))) & (Alignment - 1));
        return buffer;
    }
}
