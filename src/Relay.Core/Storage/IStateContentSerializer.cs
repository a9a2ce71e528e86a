namespace Relay.Core.Storage;

/// <summary>
/// A grain-state serializer that keeps a state's content (a delivery's payload and headers: large, and written once)
/// apart from the rest (what every attempt changes). A storage whose serializer is one stores the two parts in two
/// rows, and writes the content only when it changed: a status write is a small row, whatever the payload's size.
/// </summary>
/// <remarks>
/// A state without content (any other state) has its whole form in <see cref="StateParts.Data"/> and no content.
/// The storage must write <see cref="StateParts.Content"/> in the same transaction as <see cref="StateParts.Data"/>,
/// and hand both back to <see cref="Deserialize{T}"/>.
/// </remarks>
public interface IStateContentSerializer
{
    /// <summary>
    /// The state's two parts. <see cref="StateParts.Content"/> is null when the content is already stored (as read, or
    /// as last written: see the state's own flag) and the stored content must be kept.
    /// </summary>
    StateParts SerializeParts<T>(T state);

    /// <summary>The state from its two parts; <paramref name="content"/> is null when no content row is stored.</summary>
    T? Deserialize<T>(byte[] data, byte[]? content);
}

/// <summary>A state in two parts: <see cref="Data"/>, written every time, and <see cref="Content"/>, only when it changed.</summary>
public readonly record struct StateParts(byte[] Data, byte[]? Content);
