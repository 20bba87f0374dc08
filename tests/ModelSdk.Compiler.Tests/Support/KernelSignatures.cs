using ModelSdk.Plan;

namespace ModelSdk.Compiler.Tests.Support;

/// <summary>
/// Generated code calls <c>Kernels.&lt;Kernel&gt;.Run&lt;T…&gt;(name: value, …)</c>, so every plan step must name the
/// kernel's parameters in order, with arguments of the parameter's kind.
/// </summary>
public static class KernelSignatures
{
    /// <summary>Asserts that each step matches the signature of its kernel's <c>Run</c> method.</summary>
    public static void AssertMatch(IEnumerable<PlanStep> steps)
    {
        foreach (PlanStep step in steps)
        {
            Type kernel = typeof(Runtime.Kernels.Copy).Assembly.GetType($"ModelSdk.Runtime.Kernels.{step.Kernel}")!;
            var run = Assert.Single(kernel.GetMethods(), m => m.Name == "Run");
            Assert.Equal(step.TypeArgs.Count, run.GetGenericArguments().Length);
            var parameters = run.GetParameters();
            Assert.Equal(parameters.Select(p => p.Name), step.Args.Select(a => a.Name));
            for (int i = 0; i < parameters.Length; i++)
            {
                string expected = step.Args[i].Kind switch
                {
                    PlanArgKind.TensorIn or PlanArgKind.Ints or PlanArgKind.Floats => "ReadOnlySpan`1",
                    PlanArgKind.TensorOut => "Span`1",
                    PlanArgKind.None => parameters[i].ParameterType.Name is "Span`1" ? "Span`1" : "ReadOnlySpan`1",
                    PlanArgKind.Int => nameof(Int32),
                    PlanArgKind.Float => nameof(Single),
                    PlanArgKind.Bool => nameof(Boolean),
                    PlanArgKind.Enum => step.Args[i].Symbol.Split('.')[0],
                    PlanArgKind.Context => nameof(Runtime.KernelContext),
                    var kind => throw new InvalidOperationException(kind.ToString()),
                };
                Assert.Equal(expected, parameters[i].ParameterType.Name);
            }
        }
    }
}
