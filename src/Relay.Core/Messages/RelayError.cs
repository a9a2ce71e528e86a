namespace Relay.Core.Messages;

/// <summary>An error a user caused, with a title a person can act on. Becomes problem+json or a SOAP fault.</summary>
public sealed record RelayError(int StatusCode, string Title, string? Detail = null)
{
    public static RelayError BadRequest(string title, string? detail = null) => new(400, title, detail);
    public static RelayError NotFound(string title, string? detail = null) => new(404, title, detail);
    public static RelayError Conflict(string title, string? detail = null) => new(409, title, detail);
    public static RelayError TooLarge(string title, string? detail = null) => new(413, title, detail);
}

/// <summary>Raised by a grain for an error the caller caused; carries the <see cref="RelayError"/>.</summary>
public sealed class RelayErrorException(RelayError error) : Exception(error.Title)
{
    public RelayError Error { get; } = error;
}
