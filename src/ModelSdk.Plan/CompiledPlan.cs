using System;
using System.Collections.Generic;

namespace ModelSdk.Plan
{
    /// <summary>
    /// A compiled model: every tensor with its fixed shape and storage, and the kernel calls that
    /// compute the outputs from the inputs, in order. Written by the compiler, read by the source
    /// generator and by the compiler's own executor. <see cref="PlanWriter"/> gives its text form.
    /// </summary>
    public sealed class CompiledPlan
    {
        /// <summary>Version of the plan format this library reads and writes.</summary>
        public const int FormatVersion = 1;

        /// <summary>Creates a plan.</summary>
        public CompiledPlan(
            string compilerVersion,
            string modelName,
            string sourceSha256,
            long weightsBytes,
            string weightsSha256,
            long arenaBytes,
            IReadOnlyList<PlanTensor> tensors,
            IReadOnlyList<PlanValue> inputs,
            IReadOnlyList<PlanValue> outputs,
            IReadOnlyList<PlanStep> steps,
            PlanCost cost)
            : this(compilerVersion, modelName, sourceSha256, weightsBytes, weightsSha256, weightsBytes, arenaBytes, tensors, inputs, outputs, steps, cost)
        {
        }

        /// <summary>Creates a plan whose weights take <paramref name="loadedWeightsBytes"/> in memory once loaded (see <see cref="LoadedWeightsBytes"/>).</summary>
        public CompiledPlan(
            string compilerVersion,
            string modelName,
            string sourceSha256,
            long weightsBytes,
            string weightsSha256,
            long loadedWeightsBytes,
            long arenaBytes,
            IReadOnlyList<PlanTensor> tensors,
            IReadOnlyList<PlanValue> inputs,
            IReadOnlyList<PlanValue> outputs,
            IReadOnlyList<PlanStep> steps,
            PlanCost cost)
        {
            CompilerVersion = compilerVersion ?? throw new ArgumentNullException(nameof(compilerVersion));
            ModelName = modelName ?? throw new ArgumentNullException(nameof(modelName));
            SourceSha256 = sourceSha256 ?? throw new ArgumentNullException(nameof(sourceSha256));
            WeightsBytes = weightsBytes;
            WeightsSha256 = weightsSha256 ?? throw new ArgumentNullException(nameof(weightsSha256));
            LoadedWeightsBytes = loadedWeightsBytes;
            ArenaBytes = arenaBytes;
            Tensors = tensors ?? throw new ArgumentNullException(nameof(tensors));
            Inputs = inputs ?? throw new ArgumentNullException(nameof(inputs));
            Outputs = outputs ?? throw new ArgumentNullException(nameof(outputs));
            Steps = steps ?? throw new ArgumentNullException(nameof(steps));
            Cost = cost ?? throw new ArgumentNullException(nameof(cost));
        }

        /// <summary>Version of the compiler that wrote the plan.</summary>
        public string CompilerVersion { get; }

        /// <summary>The ONNX graph's name, or the model file's name when the graph has none.</summary>
        public string ModelName { get; }

        /// <summary>SHA-256 (lower-case hex) of the source model file.</summary>
        public string SourceSha256 { get; }

        /// <summary>Length of the weights payload in bytes (without the blob header).</summary>
        public long WeightsBytes { get; }

        /// <summary>SHA-256 (lower-case hex) of the weights payload; the blob header repeats it.</summary>
        public string WeightsSha256 { get; }

        /// <summary>
        /// Size of the weights in memory once loaded, which weights tensors' <see cref="PlanTensor.Offset"/> refer to.
        /// Equal to <see cref="WeightsBytes"/> unless some weights are stored in a narrower type than they are
        /// computed in (<see cref="PlanTensor.StoredType"/>): the loader copies the payload to the start of the
        /// loaded weights, then widens each such tensor into its place (see <see cref="WeightsLayout"/>).
        /// </summary>
        public long LoadedWeightsBytes { get; }

        /// <summary>Size of the scratch arena that holds every intermediate tensor.</summary>
        public long ArenaBytes { get; }

        /// <summary>All tensors; a tensor's <see cref="PlanTensor.Id"/> is its index here.</summary>
        public IReadOnlyList<PlanTensor> Tensors { get; }

        /// <summary>Graph inputs in ONNX graph order.</summary>
        public IReadOnlyList<PlanValue> Inputs { get; }

        /// <summary>Graph outputs in ONNX graph order.</summary>
        public IReadOnlyList<PlanValue> Outputs { get; }

        /// <summary>Kernel calls in execution order.</summary>
        public IReadOnlyList<PlanStep> Steps { get; }

        /// <summary>What the model costs.</summary>
        public PlanCost Cost { get; }
    }

    /// <summary>Where a tensor's elements live at run time.</summary>
    public enum StorageKind
    {
        /// <summary>The caller's input span; <see cref="PlanTensor.Index"/> is the input index.</summary>
        Input,
        /// <summary>The caller's output span; <see cref="PlanTensor.Index"/> is the output index.</summary>
        Output,
        /// <summary>Read-only weights blob at <see cref="PlanTensor.Offset"/>.</summary>
        Weights,
        /// <summary>The model instance's scratch arena at <see cref="PlanTensor.Offset"/>.</summary>
        Arena,
    }

    /// <summary>A tensor of the plan: type, shape and storage. Views of one buffer share storage.</summary>
    public sealed class PlanTensor
    {
        /// <summary>Creates a tensor.</summary>
        public PlanTensor(int id, string name, ElementType type, int[] shape, StorageKind storage, int index, long offset)
            : this(id, name, type, shape, storage, index, offset, type, offset)
        {
        }

        /// <summary>Creates a weights tensor stored in the payload as <paramref name="storedType"/> at <paramref name="storedOffset"/>.</summary>
        public PlanTensor(int id, string name, ElementType type, int[] shape, StorageKind storage, int index, long offset, ElementType storedType, long storedOffset)
        {
            Id = id;
            Name = name ?? throw new ArgumentNullException(nameof(name));
            Type = type;
            Shape = shape ?? throw new ArgumentNullException(nameof(shape));
            Storage = storage;
            Index = index;
            Offset = offset;
            StoredType = storedType;
            StoredOffset = storedOffset;
            long count = 1;
            foreach (int d in shape)
            {
                count = checked(count * d);
            }

            ElementCount = count;
        }

        /// <summary>Index of the tensor in <see cref="CompiledPlan.Tensors"/>.</summary>
        public int Id { get; }

        /// <summary>The ONNX tensor name (for reports and debugging only).</summary>
        public string Name { get; }

        /// <summary>Element type.</summary>
        public ElementType Type { get; }

        /// <summary>Fixed shape; empty for a scalar.</summary>
        public int[] Shape { get; }

        /// <summary>Storage kind.</summary>
        public StorageKind Storage { get; }

        /// <summary>Input or output index for <see cref="StorageKind.Input"/> and <see cref="StorageKind.Output"/>; otherwise -1.</summary>
        public int Index { get; }

        /// <summary>Byte offset in the weights blob or arena; otherwise 0.</summary>
        public long Offset { get; }

        /// <summary>
        /// The element type in the weights payload: <see cref="Type"/>, or a narrower float type (float16,
        /// bfloat16) that the loader widens to <see cref="Type"/> (float32) once, when the weights are loaded.
        /// </summary>
        public ElementType StoredType { get; }

        /// <summary>Byte offset in the weights payload of the stored elements; <see cref="Offset"/> unless <see cref="IsWidened"/>.</summary>
        public long StoredOffset { get; }

        /// <summary>Whether the payload stores the tensor in a narrower type than <see cref="Type"/>.</summary>
        public bool IsWidened => StoredType != Type;

        /// <summary>Size in bytes in the weights payload.</summary>
        public long StoredByteCount => ElementCount * StoredType.SizeInBytes();

        /// <summary>Number of elements (the product of the shape).</summary>
        public long ElementCount { get; }

        /// <summary>Size in bytes.</summary>
        public long ByteCount => ElementCount * Type.SizeInBytes();
    }

    /// <summary>A graph input or output: its ONNX name and the tensor that carries it.</summary>
    public sealed class PlanValue
    {
        /// <summary>Creates a graph input or output.</summary>
        public PlanValue(string name, int tensorId)
        {
            Name = name ?? throw new ArgumentNullException(nameof(name));
            TensorId = tensorId;
        }

        /// <summary>The ONNX name.</summary>
        public string Name { get; }

        /// <summary>The tensor that holds it.</summary>
        public int TensorId { get; }
    }

    /// <summary>Totals of the cost model.</summary>
    public sealed class PlanCost
    {
        /// <summary>Creates a cost record.</summary>
        public PlanCost(long parameters, long macs)
        {
            Parameters = parameters;
            Macs = macs;
        }

        /// <summary>Number of weight elements.</summary>
        public long Parameters { get; }

        /// <summary>Multiply-accumulate operations per run.</summary>
        public long Macs { get; }
    }
}
