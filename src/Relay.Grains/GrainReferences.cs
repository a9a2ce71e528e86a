namespace Relay.Grains;

/// <summary>
/// References to string-keyed grains of <typeparamref name="TGrainInterface"/> without Orleans finding the grain
/// interface type again on each: <c>GetGrain&lt;T&gt;(key)</c> formats and parses the interface's type name every time
/// (about 0.6 KB per call; a message took one for its delivery, issue 14). The first reference's grain type and
/// interface type are kept, and every later reference is made from them and the key: the same id and interface Orleans
/// would give. Every Relay silo hosts every Relay grain, so the first reference already names the real grain type.
/// </summary>
internal static class GrainReferences<TGrainInterface>
    where TGrainInterface : IGrainWithStringKey
{
    private static Types? s_types;

    public static TGrainInterface Get(IGrainFactory grains, string key)
    {
        if (s_types is { } types)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(key);
            return (TGrainInterface)grains.GetGrain(GrainId.Create(types.Grain, IdSpan.Create(key)), types.Interface);
        }

        var reference = grains.GetGrain<TGrainInterface>(key);
        if (reference is GrainReference made)
        {
            s_types = new Types(made.GrainId.Type, made.InterfaceType);
        }

        return reference;
    }

    /// <summary>Kept whole in one reference: a reader sees both types of one resolution, never half of another.</summary>
    private sealed record Types(GrainType Grain, GrainInterfaceType Interface);
}
