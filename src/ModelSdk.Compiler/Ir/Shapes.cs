namespace ModelSdk.Compiler.Ir;

/// <summary>Shape arithmetic with overflow checks: a hostile model cannot make the compiler allocate or index past a limit.</summary>
public static class Shapes
{
    /// <summary>Most elements one tensor may have (spans are indexed by <c>int</c>).</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>Product of the dimensions; throws <see cref="OverflowException"/> past <see cref="MaxElements"/> or on a negative dimension.</summary>
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new OverflowException("negative dimension");
            }

            count = checked(count * d);
            if (count > MaxElements)
            {
                throw new OverflowException("too many elements");
            }
        }

        return (int)count;
    }

    /// <summary>Product of the dimensions, or null when it is negative or too large.</summary>
    public static int? TryElementCount(ReadOnlySpan<int> shape)
    {
        try
        {
            return ElementCount(shape);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>Product of <c>shape[start..end]</c> (the shape is already validated).</summary>
    public static int Product(ReadOnlySpan<int> shape, int start, int end)
    {
        int p = 1;
        for (int i = start; i < end; i++)
        {
            p *= shape[i];
        }

        return p;
    }

    /// <summary>Row-major element strides.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape[i];
        }

        return strides;
    }

    /// <summary>Formats a shape as <c>[1,3,224,224]</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    /// <summary>Normalises a possibly negative axis against <paramref name="rank"/>, or returns -1 when it is out of range.</summary>
    public static int NormalizeAxis(long axis, int rank)
    {
        long a = axis < 0 ? axis + rank : axis;
        return a < 0 || a >= rank ? -1 : (int)a;
    }

    /// <summary>The NumPy broadcast of two shapes, or null when they are incompatible.</summary>
    public static int[]? Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
            {
                return null;
            }

            result[i] = da == 1 ? db : da;
        }

        return result;
    }

    /// <summary>Whether two shapes are equal.</summary>
    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}
