using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace ModelSdk.Tasks
{
    /// <summary>
    /// Compiles one model by running <c>modelsdk compile</c> in a child <c>dotnet</c> process, as
    /// Grpc.Tools runs protoc: a crash or a huge model cannot take the build host down, and the task
    /// assembly never loads the compiler. The compiler prints diagnostics in MSBuild's canonical
    /// format, which <see cref="ToolTask"/> turns into errors and warnings on the model file.
    /// </summary>
    public sealed class CompileOnnxModel : ToolTask
    {
        /// <summary>One item prepared by <see cref="PrepareOnnxModels"/>.</summary>
        [Required]
        public ITaskItem Model { get; set; } = null!;

        /// <summary>Path of <c>modelsdk.dll</c>.</summary>
        [Required]
        public string CompilerPath { get; set; } = string.Empty;

        /// <summary>The <c>dotnet</c> host running the build (<c>$(DOTNET_HOST_PATH)</c>); <c>dotnet</c> on PATH when empty.</summary>
        public string DotNetHostPath { get; set; } = string.Empty;

        /// <inheritdoc/>
        protected override string ToolName => "dotnet";

        /// <inheritdoc/>
        protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.High;

        /// <inheritdoc/>
        protected override string GenerateFullPathToTool()
            => !string.IsNullOrEmpty(DotNetHostPath) && File.Exists(DotNetHostPath) ? DotNetHostPath : ToolName;

        /// <inheritdoc/>
        protected override string GenerateCommandLineCommands()
        {
            var cmd = new CommandLineBuilder();
            cmd.AppendSwitch("exec");
            cmd.AppendFileNameIfNotNull(CompilerPath);
            cmd.AppendSwitch("compile");
            cmd.AppendSwitchIfNotNull("--model ", Model.GetMetadata("FullPath"));
            cmd.AppendSwitchIfNotNull("--plan ", Model.GetMetadata("PlanFile"));
            cmd.AppendSwitchIfNotNull("--weights ", Model.GetMetadata("WeightsFile"));
            cmd.AppendSwitchIfNotNull("--report ", Model.GetMetadata("ReportFile"));
            cmd.AppendSwitchIfNotNull("--deps ", Model.GetMetadata("DepsFile"));
            string shapes = Model.GetMetadata("ModelSdkInputShapes");
            if (shapes.Length > 0)
            {
                cmd.AppendSwitchIfNotNull("--input-shapes ", shapes);
            }

            if (Model.GetMetadata("ModelSdkQuantize") is { Length: > 0 } quantize && quantize != "none")
            {
                cmd.AppendSwitchIfNotNull("--quantize ", quantize);
                foreach ((string option, string metadata) in new[]
                {
                    ("--calibration-data ", "ModelSdkCalibrationData"),
                    ("--calibration-method ", "ModelSdkCalibrationMethod"),
                    ("--calibration-percentile ", "ModelSdkCalibrationPercentile"),
                    ("--quantize-exclude ", "ModelSdkQuantizeExclude"),
                    ("--validation-data ", "ModelSdkValidationData"),
                })
                {
                    string value = Model.GetMetadata(metadata);
                    if (value.Length > 0)
                    {
                        cmd.AppendSwitchIfNotNull(option, value);
                    }
                }
            }

            return cmd.ToString();
        }

        /// <inheritdoc/>
        protected override bool ValidateParameters()
        {
            if (!File.Exists(CompilerPath))
            {
                Log.LogError(null, "MSDK2007", null, Model.ItemSpec, 0, 0, 0, 0,
                    $"The ModelSdk compiler was not found at '{CompilerPath}'. The ModelSdk package may be damaged; restore it again.");
                return false;
            }

            return base.ValidateParameters();
        }

        /// <inheritdoc/>
        public override bool Execute()
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Model.GetMetadata("PlanFile"))!);
            return base.Execute();
        }
    }
}
