using System.Collections.Generic;
using ModelSdk.Plan;

namespace ModelSdk.Generators.Emitter
{
    /// <summary>One graph input or output as the generated class names it.</summary>
    internal sealed class TensorNames
    {
        public TensorNames(PlanValue value, PlanTensor tensor, string member, string parameter)
        {
            Value = value;
            Tensor = tensor;
            Member = member;
            Parameter = parameter;
        }

        public PlanValue Value { get; }

        public PlanTensor Tensor { get; }

        /// <summary>PascalCase: the Output property and the prefix of the Shape/Length members.</summary>
        public string Member { get; }

        /// <summary>camelCase (keyword-escaped): the Run parameter.</summary>
        public string Parameter { get; }

        public string ElementType => Tensor.Type.ToCSharpName();
    }

    /// <summary>The names of every input and output, resolved once in graph order (inputs, then outputs).</summary>
    internal sealed class ModelNames
    {
        /// <summary>Members every generated class has, which ONNX-derived names must not take.</summary>
        private static readonly string[] Reserved =
        {
            "Run", "Info", "Output", "Dispose", "Equals", "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize", "ReferenceEquals",
        };

        public ModelNames(CompiledPlan plan, string className)
        {
            var members = new HashSet<string>(Reserved) { className };
            var parameters = new HashSet<string>();
            Inputs = Resolve(plan, plan.Inputs, members, parameters);
            Outputs = Resolve(plan, plan.Outputs, members, parameters);
        }

        public List<TensorNames> Inputs { get; }

        public List<TensorNames> Outputs { get; }

        private static List<TensorNames> Resolve(CompiledPlan plan, IReadOnlyList<PlanValue> values, HashSet<string> members, HashSet<string> parameters)
        {
            var result = new List<TensorNames>();
            foreach (PlanValue v in values)
            {
                string member = Naming.Unique(Naming.ToPascal(v.Name), members, "Shape", "Length");
                string parameter = Naming.EscapeKeyword(Naming.Unique(Naming.ToCamel(v.Name), parameters));
                result.Add(new TensorNames(v, plan.Tensors[v.TensorId], member, parameter));
            }

            return result;
        }
    }
}
