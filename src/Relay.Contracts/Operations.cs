namespace Relay.Contracts;

/// <summary>Body of <c>POST /messages/{id}/resubmit</c>; every field optional.</summary>
public sealed class ResubmitRequest
{
    /// <summary>Only this delivery of the message; default: every dead-lettered one.</summary>
    public string? Destination { get; set; }
    /// <summary>An edited payload (text).</summary>
    public string? Payload { get; set; }
    /// <summary>An edited payload (bytes, base64).</summary>
    public string? PayloadBase64 { get; set; }
    /// <summary>Another configured contract for the new attempts.</summary>
    public string? Contract { get; set; }
}

/// <summary>Body of <c>POST /messages/resubmit</c>.</summary>
public sealed class BulkResubmitRequest
{
    /// <summary><c>DeadLettered</c> (the default), or <c>InRetry</c> to attempt those waiting for a retry now.</summary>
    public DeliveryStatus? Status { get; set; }
    public string? Destination { get; set; }
}

public sealed class BulkResubmitResult
{
    public int Resubmitted { get; set; }
}

public sealed class MessagePage
{
    public List<SendResult> Items { get; set; } = [];
    public string? Next { get; set; }
}
