using ModelSdk.Compiler.Ir;

namespace ModelSdk.Compiler.Passes;

/// <summary>A graph-to-graph transformation. Each pass is its own file; <see cref="PassPipeline"/> lists them in order.</summary>
public interface IGraphPass
{
    /// <summary>A short name for logs and tests.</summary>
    string Name { get; }

    /// <summary>Transforms the graph in place.</summary>
    void Run(Graph graph);
}
