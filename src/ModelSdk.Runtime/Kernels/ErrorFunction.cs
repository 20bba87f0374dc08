namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The error function to double precision at the cost of one short polynomial: erf is expanded in Taylor
/// series of 16 terms around the centres 0, 1/4, …, 6, so every |x| is within 1/8 of one, where the
/// remainder is below 1e-17. The coefficients come from erf and its derivatives at the centres, computed
/// once: erf(c) by its Maclaurin series in decimal (28 digits survive the cancellation up to c = 3) or
/// by the continued fraction of erfc beyond, and erf⁽ᵏ⁾(c) = (2/√π)(-1)ᵏ⁻¹ Hₖ₋₁(c) e^(-c²) with the
/// Hermite recurrence. Beyond 6, erfc is below 2e-17 and erf is ±1.
/// </summary>
internal static class ErrorFunction
{
    private const int Terms = 17; // erf(c) and 16 derivatives
    private const double Step = 0.25;
    private const double Limit = 6;
    private static readonly double[] Coefficients = Build();

    public static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        double ax = Math.Abs(x);
        if (ax >= Limit)
        {
            return Math.Sign(x);
        }

        int centre = (int)(ax / Step + 0.5);
        double h = ax - centre * Step;
        ReadOnlySpan<double> a = Coefficients.AsSpan(centre * Terms, Terms);
        double sum = a[Terms - 1];
        for (int k = Terms - 2; k >= 0; k--)
        {
            sum = sum * h + a[k];
        }

        return x < 0 ? -sum : sum;
    }

    private static double[] Build()
    {
        int centres = (int)(Limit / Step) + 1;
        var result = new double[centres * Terms];
        Span<double> hermite = stackalloc double[Terms];
        for (int j = 0; j < centres; j++)
        {
            double c = j * Step;
            Span<double> a = result.AsSpan(j * Terms, Terms);
            a[0] = c <= 3 ? MaclaurinDecimal(c) : 1 - ErfcContinuedFraction(c);

            // Hₙ(c) for n = 0 … Terms - 2: H₀ = 1, H₁ = 2c, Hₙ₊₁ = 2c Hₙ - 2n Hₙ₋₁.
            hermite[0] = 1;
            hermite[1] = 2 * c;
            for (int n = 1; n < Terms - 2; n++)
            {
                hermite[n + 1] = 2 * c * hermite[n] - 2 * n * hermite[n - 1];
            }

            double scale = 2 / Math.Sqrt(Math.PI) * Math.Exp(-c * c);
            double factorial = 1;
            for (int k = 1; k < Terms; k++)
            {
                factorial *= k;
                double sign = (k - 1) % 2 == 0 ? 1 : -1;
                a[k] = sign * scale * hermite[k - 1] / factorial;
            }
        }

        return result;
    }

    /// <summary>erf(x) = (2/√π) Σ (-1)ⁿ x²ⁿ⁺¹ / (n! (2n + 1)), summed in 28-digit decimal.</summary>
    private static double MaclaurinDecimal(double x)
    {
        decimal dx = (decimal)x, x2 = dx * dx, term = dx, sum = dx;
        for (int n = 1; n < 200 && term != 0; n++)
        {
            term *= -x2 / n;
            sum += term / (2 * n + 1);
        }

        return (double)sum * (2 / Math.Sqrt(Math.PI));
    }

    /// <summary>erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …)))), evaluated from the tail, for x ≥ 3.</summary>
    private static double ErfcContinuedFraction(double x)
    {
        double tail = x;
        for (int n = 200; n >= 1; n--)
        {
            tail = x + n / 2.0 / tail;
        }

        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / tail;
    }
}
