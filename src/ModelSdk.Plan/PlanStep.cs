using System;
using System.Collections.Generic;

namespace ModelSdk.Plan
{
    /// <summary>
    /// One kernel call: <c>ModelSdk.Runtime.Kernels.&lt;Kernel&gt;.Run&lt;TypeArgs&gt;(name: value, …)</c>.
    /// The arguments are named after the kernel's parameters and listed in their order, so a
    /// plan step maps onto one C# call without per-kernel knowledge in the generator.
    /// </summary>
    public sealed class PlanStep
    {
        /// <summary>Creates a kernel call.</summary>
        public PlanStep(string kernel, IReadOnlyList<ElementType> typeArgs, IReadOnlyList<PlanArg> args, string nodeName, string opType)
            : this(StepKind.Call, kernel, typeArgs, args, nodeName, opType)
        {
        }

        private PlanStep(StepKind kind, string kernel, IReadOnlyList<ElementType> typeArgs, IReadOnlyList<PlanArg> args, string nodeName, string opType)
        {
            Kind = kind;
            Kernel = kernel ?? throw new ArgumentNullException(nameof(kernel));
            TypeArgs = typeArgs ?? throw new ArgumentNullException(nameof(typeArgs));
            Args = args ?? throw new ArgumentNullException(nameof(args));
            NodeName = nodeName ?? throw new ArgumentNullException(nameof(nodeName));
            OpType = opType ?? throw new ArgumentNullException(nameof(opType));
        }

        /// <summary>Starts a block that runs when the one-element bool tensor <paramref name="condition"/> is true.</summary>
        public static PlanStep If(int condition, string nodeName, string opType)
            => new PlanStep(StepKind.If, "If", new ElementType[0], new[] { PlanArg.In("cond", condition) }, nodeName, opType);

        /// <summary>Ends the true block of the innermost <see cref="If"/> and starts its false block.</summary>
        public static PlanStep Else(string nodeName, string opType)
            => new PlanStep(StepKind.Else, "Else", new ElementType[0], new PlanArg[0], nodeName, opType);

        /// <summary>Ends the innermost <see cref="If"/>.</summary>
        public static PlanStep EndIf(string nodeName, string opType)
            => new PlanStep(StepKind.EndIf, "EndIf", new ElementType[0], new PlanArg[0], nodeName, opType);

        /// <summary>A kernel call, or a control-flow marker.</summary>
        public StepKind Kind { get; }

        /// <summary>Kernel class name in <c>ModelSdk.Runtime.Kernels</c>, e.g. <c>Conv</c> (for control steps: If, Else, EndIf).</summary>
        public string Kernel { get; }

        /// <summary>Generic type arguments of the kernel's <c>Run</c> method.</summary>
        public IReadOnlyList<ElementType> TypeArgs { get; }

        /// <summary>Arguments, in parameter order.</summary>
        public IReadOnlyList<PlanArg> Args { get; }

        /// <summary>The ONNX node this step came from (for reports and error messages).</summary>
        public string NodeName { get; }

        /// <summary>The ONNX operator this step came from.</summary>
        public string OpType { get; }

        /// <summary>Finds an argument by name.</summary>
        public PlanArg this[string name]
        {
            get
            {
                foreach (PlanArg arg in Args)
                {
                    if (arg.Name == name)
                    {
                        return arg;
                    }
                }

                throw new KeyNotFoundException($"Step '{Kernel}' has no argument '{name}'.");
            }
        }
    }

    /// <summary>What a <see cref="PlanStep"/> is.</summary>
    public enum StepKind
    {
        /// <summary>A kernel call.</summary>
        Call,
        /// <summary>Start of a conditional block (argument <c>cond</c>: a one-element bool tensor).</summary>
        If,
        /// <summary>Start of the false block of the innermost conditional.</summary>
        Else,
        /// <summary>End of the innermost conditional.</summary>
        EndIf,
    }

    /// <summary>The kinds of value a <see cref="PlanArg"/> holds.</summary>
    public enum PlanArgKind
    {
        /// <summary>A tensor the kernel reads (<c>ReadOnlySpan&lt;T&gt;</c>), written <c>%id</c>.</summary>
        TensorIn,
        /// <summary>A tensor the kernel writes (<c>Span&lt;T&gt;</c>), written <c>&amp;id</c>.</summary>
        TensorOut,
        /// <summary>An absent optional tensor (an empty span), written <c>-</c>.</summary>
        None,
        /// <summary>An <c>int</c>, written <c>i:5</c>.</summary>
        Int,
        /// <summary>A <c>float</c>, written <c>f:0.5</c>.</summary>
        Float,
        /// <summary>A <c>ReadOnlySpan&lt;int&gt;</c>, written <c>is:[1,2]</c>.</summary>
        Ints,
        /// <summary>A <c>ReadOnlySpan&lt;float&gt;</c>, written <c>fs:[0.5,1]</c>.</summary>
        Floats,
        /// <summary>A member of an enum of <c>ModelSdk.Runtime.Kernels</c>, written <c>e:Type.Member</c>.</summary>
        Enum,
        /// <summary>A <c>bool</c>, written <c>b:true</c>.</summary>
        Bool,
        /// <summary>The model instance's <c>ModelSdk.Runtime.KernelContext</c> (worker threads), written <c>ctx</c>.</summary>
        Context,
    }

    /// <summary>A named kernel argument.</summary>
    public sealed class PlanArg
    {
        private static readonly int[] NoInts = new int[0];
        private static readonly float[] NoFloats = new float[0];

        private PlanArg(string name, PlanArgKind kind, int tensor, long integer, double real, int[]? ints, float[]? floats, string? symbol)
        {
            if (!PlanSyntax.IsIdentifier(name))
            {
                throw new ArgumentException($"'{name}' is not a valid argument name.", nameof(name));
            }

            Name = name;
            Kind = kind;
            Tensor = tensor;
            IntValue = (int)integer;
            FloatValue = (float)real;
            Ints = ints ?? NoInts;
            Floats = floats ?? NoFloats;
            Symbol = symbol ?? string.Empty;
        }

        /// <summary>Parameter name.</summary>
        public string Name { get; }

        /// <summary>What the argument holds.</summary>
        public PlanArgKind Kind { get; }

        /// <summary>Tensor id for <see cref="PlanArgKind.TensorIn"/> and <see cref="PlanArgKind.TensorOut"/>.</summary>
        public int Tensor { get; }

        /// <summary>Value of an <see cref="PlanArgKind.Int"/> or <see cref="PlanArgKind.Bool"/> (0 or 1) argument.</summary>
        public int IntValue { get; }

        /// <summary>Value of a <see cref="PlanArgKind.Float"/> argument.</summary>
        public float FloatValue { get; }

        /// <summary>Values of an <see cref="PlanArgKind.Ints"/> argument.</summary>
        public int[] Ints { get; }

        /// <summary>Values of a <see cref="PlanArgKind.Floats"/> argument.</summary>
        public float[] Floats { get; }

        /// <summary><c>Type.Member</c> of an <see cref="PlanArgKind.Enum"/> argument.</summary>
        public string Symbol { get; }

        /// <summary>A tensor the kernel reads.</summary>
        public static PlanArg In(string name, int tensor) => new PlanArg(name, PlanArgKind.TensorIn, tensor, 0, 0, null, null, null);

        /// <summary>A tensor the kernel writes.</summary>
        public static PlanArg Out(string name, int tensor) => new PlanArg(name, PlanArgKind.TensorOut, tensor, 0, 0, null, null, null);

        /// <summary>An absent optional tensor.</summary>
        public static PlanArg None(string name) => new PlanArg(name, PlanArgKind.None, -1, 0, 0, null, null, null);

        /// <summary>An integer.</summary>
        public static PlanArg Int(string name, int value) => new PlanArg(name, PlanArgKind.Int, -1, value, 0, null, null, null);

        /// <summary>A float.</summary>
        public static PlanArg Float(string name, float value) => new PlanArg(name, PlanArgKind.Float, -1, 0, value, null, null, null);

        /// <summary>A boolean.</summary>
        public static PlanArg Bool(string name, bool value) => new PlanArg(name, PlanArgKind.Bool, -1, value ? 1 : 0, 0, null, null, null);

        /// <summary>The model instance's kernel context (worker threads).</summary>
        public static PlanArg Context(string name) => new PlanArg(name, PlanArgKind.Context, -1, 0, 0, null, null, null);

        /// <summary>A list of integers.</summary>
        public static PlanArg IntList(string name, int[] values) => new PlanArg(name, PlanArgKind.Ints, -1, 0, 0, (int[])values.Clone(), null, null);

        /// <summary>A list of floats.</summary>
        public static PlanArg FloatList(string name, float[] values) => new PlanArg(name, PlanArgKind.Floats, -1, 0, 0, null, (float[])values.Clone(), null);

        /// <summary>An enum member, <c>Type.Member</c>.</summary>
        public static PlanArg Enum(string name, string typeName, string member)
        {
            if (!PlanSyntax.IsIdentifier(typeName) || !PlanSyntax.IsIdentifier(member))
            {
                throw new ArgumentException($"'{typeName}.{member}' is not a valid enum member.");
            }

            return new PlanArg(name, PlanArgKind.Enum, -1, 0, 0, null, null, typeName + "." + member);
        }

        /// <summary>Whether this argument refers to a tensor.</summary>
        public bool IsTensor => Kind == PlanArgKind.TensorIn || Kind == PlanArgKind.TensorOut;
    }
}
