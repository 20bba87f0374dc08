namespace ModelSdk.EndToEnd.Tests.Support;

/// <summary>One packed SDK for every end-to-end test class; the classes run one after the other (2 cores).</summary>
[CollectionDefinition(Name)]
public sealed class PackageCollection : ICollectionFixture<PackageFeed>
{
    public const string Name = "Packed SDK";
}
