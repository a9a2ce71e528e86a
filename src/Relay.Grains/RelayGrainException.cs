using Relay.Core.Messages;

namespace Relay.Grains;

/// <summary>An error the caller caused, raised by a grain and carried across silos to the API, which answers with it.</summary>
[GenerateSerializer]
public sealed class RelayGrainException : Exception
{
    public RelayGrainException()
    {
    }

    public RelayGrainException(string message)
        : base(message)
    {
        Title = message;
    }

    public RelayGrainException(string message, Exception innerException)
        : base(message, innerException)
    {
        Title = message;
    }

    public RelayGrainException(RelayError error)
        : base(error.Title)
    {
        StatusCode = error.StatusCode;
        Title = error.Title;
        Detail = error.Detail;
    }

    [Id(0)] public int StatusCode { get; set; } = 400;
    [Id(1)] public string Title { get; set; } = "";
    [Id(2)] public string? Detail { get; set; }

    public RelayError ToError() => new(StatusCode, Title, Detail);
}
