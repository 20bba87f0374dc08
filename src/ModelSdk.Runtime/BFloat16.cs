namespace ModelSdk.Runtime;

/// <summary>A bfloat16 value: the upper 16 bits of an IEEE float32.</summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>Creates a value from its raw bits.</summary>
    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw bits.</summary>
    public ushort Bits { get; }

    /// <summary>Widens to float32 (exact).</summary>
    public static explicit operator float(BFloat16 value) => BitConverter.Int32BitsToSingle(value.Bits << 16);

    /// <summary>Narrows a float32, rounding to nearest even; NaN stays NaN.</summary>
    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return new BFloat16((ushort)((bits >> 16) | 0x40));
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + rounding) >> 16));
    }

    /// <inheritdoc/>
    public bool Equals(BFloat16 other) => Bits == other.Bits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Bits;

    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
