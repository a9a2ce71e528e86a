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
    /// <summary>Only the deliveries to this destination.</summary>
    public string? Destination { get; set; }
}

/// <summary>Answer of <c>POST /messages/resubmit</c> (without <c>Prefer: respond-async</c>).</summary>
public sealed class BulkResubmitResult
{
    /// <summary>How many deliveries were resubmitted.</summary>
    public long Resubmitted { get; set; }
    /// <summary>The bulk operation that did it (<c>GET /operations/{id}</c>).</summary>
    public string? Operation { get; set; }
    /// <summary>Met but left alone: they had moved on meanwhile.</summary>
    public long Skipped { get; set; }
    /// <summary>The resubmit failed (the delivery stays as it was).</summary>
    public long Failed { get; set; }
}

/// <summary>Body of <c>POST /messages/discard</c>.</summary>
public sealed class BulkDiscardRequest
{
    /// <summary><c>DeadLettered</c>, the only status a delivery is discarded from (the default).</summary>
    public DeliveryStatus? Status { get; set; }
    /// <summary>Only the deliveries to this destination.</summary>
    public string? Destination { get; set; }
}

/// <summary>Answer of <c>POST /messages/discard</c> (without <c>Prefer: respond-async</c>).</summary>
public sealed class BulkDiscardResult
{
    /// <summary>How many dead letters were discarded.</summary>
    public long Discarded { get; set; }
    /// <summary>The bulk operation that did it (<c>GET /operations/{id}</c>).</summary>
    public string? Operation { get; set; }
    public long Skipped { get; set; }
    public long Failed { get; set; }
}

public enum OperationAction
{
    Resubmit,
    Discard,
}

public enum OperationState
{
    Running,
    Completed,
    Cancelled,
    Failed,
}

/// <summary>What a bulk operation acts on.</summary>
public sealed class OperationFilter
{
    public DeliveryStatus Status { get; set; }
    public string? Destination { get; set; }
    public string? Topic { get; set; }
    public DateTimeOffset? AcceptedFrom { get; set; }
    public DateTimeOffset? AcceptedTo { get; set; }
    public string? IdContains { get; set; }
}

/// <summary>A bulk operation (<c>GET /operations/{id}</c>): a resubmit or discard of every delivery a filter matches, with its progress.</summary>
public sealed class OperationView
{
    public string Id { get; set; } = "";
    public OperationAction Action { get; set; }
    /// <summary><c>Running</c>, then <c>Completed</c>, <c>Cancelled</c> or <c>Failed</c>.</summary>
    public OperationState State { get; set; }
    public OperationFilter Filter { get; set; } = new();
    /// <summary>The deliveries the filter matched when the operation started.</summary>
    public long Total { get; set; }
    /// <summary>Resubmitted (or discarded) so far.</summary>
    public long Done { get; set; }
    /// <summary>Met but left alone: they had moved on meanwhile (resubmitted, delivered or discarded).</summary>
    public long Skipped { get; set; }
    /// <summary>The action failed; the delivery stays as it was.</summary>
    public long Failed { get; set; }
    /// <summary>The operator key that started it.</summary>
    public string? By { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>When it ended (completed, cancelled or failed); null while running.</summary>
    public DateTimeOffset? CompletedAt { get; set; }
    public string? CancelledBy { get; set; }
    /// <summary>Why it failed.</summary>
    public string? Error { get; set; }
}

/// <summary>Answer of <c>GET /operations</c>: the recent bulk operations, newest first.</summary>
public sealed class OperationList
{
    public List<OperationView> Items { get; set; } = [];
}

/// <summary>Answer of <c>GET /messages</c>: a page of messages, newest first.</summary>
public sealed class MessagePage
{
    /// <summary>Messages without their audit.</summary>
    public List<SendResult> Items { get; set; } = [];
    /// <summary>The cursor of the next page (<c>?cursor=</c>); null on the last.</summary>
    public string? Next { get; set; }
}

/// <summary>Body of <c>POST /destinations/{name}/circuit</c>.</summary>
public sealed class CircuitRequest
{
    /// <summary><c>Open</c> (held back until closed by hand) or <c>Closed</c> (released at once).</summary>
    public CircuitState? State { get; set; }
}

/// <summary>Answer of <c>GET /destinations</c>.</summary>
public sealed class DestinationList
{
    public List<DestinationState> Items { get; set; } = [];
}

/// <summary>A configured destination, its holds and its deliveries by status (<c>GET /destinations</c>).</summary>
public sealed class DestinationState
{
    public string Name { get; set; } = "";
    public string Protocol { get; set; } = "";
    /// <summary>The destination's retry contract (<c>default</c> when it names none).</summary>
    public string Contract { get; set; } = "";
    /// <summary>Paused by an operator: nothing is attempted until resumed.</summary>
    public bool Paused { get; set; }
    public CircuitState Circuit { get; set; }
    /// <summary>When an open circuit lets its probe through; null when closed, or opened by hand (until closed by hand).</summary>
    public DateTimeOffset? OpenUntil { get; set; }
    /// <summary>Who paused or opened it, or why it opened.</summary>
    public string? HoldReason { get; set; }
    /// <summary>
    /// Why the destination is unusable as configured, as the answering silo found it (its token endpoint refuses the
    /// client, say): it is held, as if paused, until that silo finds it usable again. Null when it is not.
    /// </summary>
    public string? ConfigurationError { get; set; }
    /// <summary>The kind of its credentials (<c>Basic</c>, <c>Bearer</c>, <c>OAuth2ClientCredentials</c>), never their values; null without.</summary>
    public string? Auth { get; set; }
    /// <summary>Whether it presents a client certificate (mutual TLS).</summary>
    public bool ClientCertificate { get; set; }
    public int? MaxPerSecond { get; set; }
    public int? FailureThreshold { get; set; }
    /// <summary>Its deliveries in each status, cluster-wide (zeros in the answer of pause, resume and circuit).</summary>
    public long Pending { get; set; }
    public long InRetry { get; set; }
    public long DeadLettered { get; set; }
    public long Delivered { get; set; }
    public long Discarded { get; set; }
}
