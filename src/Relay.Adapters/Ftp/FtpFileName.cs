namespace Relay.Adapters.Ftp;

/// <summary>
/// The name a message's file gets: the destination's <c>FileName</c> template with <c>{id}</c> replaced by the
/// message id made safe for a file name. The same id always gives the same name, so a retry overwrites the file of
/// an earlier attempt instead of leaving a second one, and two different ids never give the same name.
/// </summary>
internal static class FtpFileName
{
    public const string IdPlaceholder = "{id}";

    /// <summary>Longest encoded id kept whole; longer ones are shortened with a hash (file systems stop at 255 bytes).</summary>
    internal const int MaxEncodedIdLength = EscapedName.MaxLength;

    public static string Render(string template, string messageId) =>
        template.Replace(IdPlaceholder, Encode(messageId), StringComparison.Ordinal);

    /// <summary>
    /// Letters, digits, '-', '_' and '.' (except a leading one) stay; every other byte becomes <c>%XX</c>
    /// (<see cref="EscapedName"/>). No '/', no "..", no hidden file.
    /// </summary>
    internal static string Encode(string messageId) =>
        EscapedName.Encode(messageId, static (bytes, i) => EscapedName.IsPlain(bytes[i]) || (bytes[i] == '.' && i > 0));
}
