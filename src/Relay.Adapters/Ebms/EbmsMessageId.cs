using System.Security.Cryptography;
using System.Text;

namespace Relay.Adapters.Ebms;

/// <summary>
/// The ebXML <c>MessageId</c> of a delivery: the same on every attempt and every resubmit of it, so that a receiving MSH
/// with duplicate elimination drops what it received already; another one once an operator edits the payload (then it
/// is another message). An RFC 2822 msg-id without its angle brackets, as ebMS 2.0 (§3.1.6.1) asks:
/// <c>{32 hex digits}@relay</c>, the digits from SHA-256 over the destination's name, the message id and the payload's
/// SHA-256 (two destinations of one message, which may share a partner MSH, never share a MessageId).
/// </summary>
public static class EbmsMessageId
{
    public const string Domain = "relay";

    public static string For(string messageId, string destination, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        ArgumentNullException.ThrowIfNull(destination);
        Span<byte> payloadHash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(payload, payloadHash);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Field(hash, "ebms2");
        Field(hash, destination);
        Field(hash, messageId);
        hash.AppendData(payloadHash);
        return Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16)) + "@" + Domain;
    }

    private static void Field(IncrementalHash hash, string value)
    {
        // Length-prefixed, so that no two field lists hash alike.
        var bytes = Encoding.UTF8.GetBytes(value);
        hash.AppendData(BitConverter.GetBytes(bytes.Length));
        hash.AppendData(bytes);
    }
}
