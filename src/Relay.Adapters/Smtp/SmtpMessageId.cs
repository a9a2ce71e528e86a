namespace Relay.Adapters.Smtp;

/// <summary>
/// The Message-ID of a message's mail: <c>&lt;{id}.{destination}@{domain of From}&gt;</c>, each part encoded to
/// RFC 5322 dot-atom text. It is the same on every attempt and every resubmit of the delivery, so a receiver (or
/// a person) recognises a mail sent again after a lost reply; the destination name keeps two SMTP destinations of
/// one message apart.
/// </summary>
internal static class SmtpMessageId
{
    /// <summary>The right-hand side when From has no domain.</summary>
    internal const string FallbackDomain = "relay.invalid";

    /// <summary>Longest encoded part kept whole (a header line stops at 998); a longer one is shortened with a hash.</summary>
    internal const int MaxEncodedIdLength = EscapedName.MaxLength;

    /// <summary>The Message-ID without its angle brackets, as MimeKit takes it.</summary>
    public static string For(string messageId, string destination, string? domain) =>
        $"{Encode(messageId)}.{Encode(destination)}@{(string.IsNullOrEmpty(domain) ? FallbackDomain : domain)}";

    /// <summary>
    /// Letters, digits, '-', '_' stay, and '.' between two of them; every other byte becomes <c>%XX</c>
    /// (<see cref="EscapedName"/>), so the result is a dot-atom (which may not end with '.', before the hash either).
    /// </summary>
    internal static string Encode(string value) =>
        EscapedName.Encode(value, static (bytes, i) => EscapedName.IsPlain(bytes[i]) || IsInnerDot(bytes, i), notLastBeforeHash: ".");

    private static bool IsInnerDot(ReadOnlySpan<byte> bytes, int i) =>
        bytes[i] == '.' && i > 0 && i < bytes.Length - 1 && bytes[i - 1] != '.' && bytes[i + 1] != '.';
}
