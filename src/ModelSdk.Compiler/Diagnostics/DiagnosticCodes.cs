namespace ModelSdk.Compiler.Diagnostics;

/// <summary>
/// Every diagnostic code the compiler reports. Codes are stable: once shipped, a code keeps its
/// meaning. Each one is documented with an example and a fix in docs/diagnostics.md (a test checks).
/// MSDK1xxx: reading and validating the model; MSDK2xxx: compiling it; MSDK3xxx: quantization and
/// training; MSDK4xxx: budgets; MSDK5xxx: the source generator; MSDK9xxx: internal errors.
/// </summary>
public static class DiagnosticCodes
{
    /// <summary>The model file does not exist or cannot be read.</summary>
    public const string ModelNotFound = "MSDK1001";
    /// <summary>The model file is empty.</summary>
    public const string EmptyModel = "MSDK1002";
    /// <summary>The file is not a valid ONNX protobuf (random bytes, truncated, wrong format).</summary>
    public const string MalformedModel = "MSDK1003";
    /// <summary>The model has no graph.</summary>
    public const string NoGraph = "MSDK1004";
    /// <summary>The model's default-domain opset is outside the supported range, or missing.</summary>
    public const string UnsupportedOpset = "MSDK1005";
    /// <summary>A node reads a tensor that nothing defines.</summary>
    public const string UndefinedTensor = "MSDK1006";
    /// <summary>The graph has a cycle.</summary>
    public const string CyclicGraph = "MSDK1007";
    /// <summary>Two definitions of one tensor name.</summary>
    public const string DuplicateTensor = "MSDK1008";
    /// <summary>A tensor's data does not match its shape and type.</summary>
    public const string TensorDataMismatch = "MSDK1009";
    /// <summary>External data points outside the model's folder (absolute path, '..', or a link that leaves it).</summary>
    public const string ExternalDataOutsideModel = "MSDK1010";
    /// <summary>External data is missing, unreadable, or its offset/length lie outside the file.</summary>
    public const string ExternalDataUnreadable = "MSDK1011";
    /// <summary>A size limit is exceeded (element count, byte size, nesting depth, node count).</summary>
    public const string LimitExceeded = "MSDK1012";
    /// <summary>The InputShapes metadata is malformed or does not fit the model.</summary>
    public const string InvalidInputShapes = "MSDK1013";
    /// <summary>A symbolic dimension was not fixed by InputShapes and defaults to 1 (warning).</summary>
    public const string SymbolicDimension = "MSDK1014";
    /// <summary>A graph input or output is not a tensor of a supported element type, or is undefined.</summary>
    public const string UnsupportedGraphValue = "MSDK1015";
    /// <summary>A tensor's element type or encoding is not supported.</summary>
    public const string UnsupportedTensorType = "MSDK1016";
    /// <summary>The operator is not supported (by this ModelSdk version or at this opset).</summary>
    public const string UnsupportedOperator = "MSDK2001";
    /// <summary>A required attribute is missing or an attribute has the wrong type.</summary>
    public const string InvalidAttribute = "MSDK2002";
    /// <summary>Input shapes are incompatible with the operator (shape inference failed).</summary>
    public const string ShapeMismatch = "MSDK2003";
    /// <summary>An input that determines a shape must be a compile-time constant.</summary>
    public const string NotConstant = "MSDK2004";
    /// <summary>The operator does not support this element type.</summary>
    public const string UnsupportedType = "MSDK2005";
    /// <summary>The operator's attribute value is valid ONNX but not supported.</summary>
    public const string UnsupportedAttribute = "MSDK2006";
    /// <summary>Invalid compile options (targets, class name, …).</summary>
    public const string InvalidOptions = "MSDK2007";
    /// <summary>A quantization option is invalid (Quantize, CalibrationMethod, CalibrationPercentile, a data specification).</summary>
    public const string InvalidQuantizationOptions = "MSDK3001";
    /// <summary>Calibration or validation data is missing, unreadable, or lies outside the project.</summary>
    public const string CalibrationDataUnreadable = "MSDK3002";
    /// <summary>A calibration sample has the wrong number of values (a CSV row) or bytes (a .bin file).</summary>
    public const string CalibrationSampleSize = "MSDK3003";
    /// <summary>A calibration CSV field is not a number, or not a value of the input's element type.</summary>
    public const string CalibrationValueInvalid = "MSDK3004";
    /// <summary>Too few calibration samples: a warning under 8, an error when there are none.</summary>
    public const string CalibrationTooFewSamples = "MSDK3005";
    /// <summary>The calibration data does not match the model's inputs (an input not covered, an unknown name, different sample counts).</summary>
    public const string CalibrationInputsMismatch = "MSDK3006";
    /// <summary>Quantization was requested but the model has no quantizable layer (warning).</summary>
    public const string NothingToQuantize = "MSDK3008";
    /// <summary>A calibrated tensor held NaN or infinite values, which calibration ignores (warning).</summary>
    public const string CalibrationNonFinite = "MSDK3009";
    /// <summary>An unexpected internal error; please report it with the model.</summary>
    public const string InternalError = "MSDK9001";
}
