using Relay.Adapters.Http;

namespace Relay.Adapters.Ebms;

/// <summary>
/// An ebXML destination (<c>Protocol: Ebms2</c>): the shared settings (the address of the receiving MSH, its
/// <c>Headers</c>) and, under <c>Ebms</c>, the part of the CPA (collaboration-protocol agreement) a sender needs.
/// </summary>
public sealed class EbmsDestinationOptions : HttpTransportDestinationOptions
{
    /// <summary>The ebMS 2.0 header values and reliable-messaging choices of this destination.</summary>
    public EbmsSettings Ebms { get; set; } = new();
}

/// <summary><c>Relay:Destinations:{name}:Ebms</c>: what the CPA agreed with the receiving party.</summary>
public sealed class EbmsSettings
{
    /// <summary><c>eb:From/eb:PartyId</c>: Relay's party. Without <see cref="FromPartyType"/> it must be a URI.</summary>
    public string? FromPartyId { get; set; }
    /// <summary><c>eb:From/eb:PartyId/@eb:type</c>, e.g. <c>urn:oasis:names:tc:ebxml-cppa:partyid-type:duns</c>.</summary>
    public string? FromPartyType { get; set; }
    /// <summary><c>eb:To/eb:PartyId</c>: the receiving party. Without <see cref="ToPartyType"/> it must be a URI.</summary>
    public string? ToPartyId { get; set; }
    /// <summary><c>eb:To/eb:PartyId/@eb:type</c>.</summary>
    public string? ToPartyType { get; set; }
    /// <summary><c>eb:CPAId</c>: the agreement's id.</summary>
    public string? CpaId { get; set; }
    /// <summary><c>eb:Service</c>; a message may give its own (<c>ebms.service</c>). Without <see cref="ServiceType"/> it must be a URI.</summary>
    public string? Service { get; set; }
    /// <summary><c>eb:Service/@eb:type</c>.</summary>
    public string? ServiceType { get; set; }
    /// <summary><c>eb:Action</c>; a message may give its own (<c>ebms.action</c>).</summary>
    public string? Action { get; set; }
    /// <summary>Ask the receiving MSH for an <c>eb:Acknowledgment</c> (<c>eb:AckRequested</c>): an attempt succeeds only once it arrives.</summary>
    public bool AckRequested { get; set; } = true;
    /// <summary>The acknowledgment (or error list) comes in the HTTP response (<c>eb:SyncReply</c>); <c>false</c>: later, to <c>POST /ebms</c>.</summary>
    public bool SyncReply { get; set; } = true;
    /// <summary>Ask the receiving MSH to drop duplicates (<c>eb:DuplicateElimination</c>): every retry carries the same MessageId.</summary>
    public bool DuplicateElimination { get; set; } = true;
    /// <summary><c>eb:TimeToLive</c>, counted from each attempt's <c>eb:Timestamp</c>; none by default.</summary>
    public TimeSpan? TimeToLive { get; set; }
    /// <summary>
    /// The key the partner's MSH presents when it posts acknowledgments and error lists to <c>POST /ebms</c>
    /// (<c>X-Api-Key</c> or <c>Authorization: Bearer</c>); required with <c>SyncReply: false</c>. A secret: never logged.
    /// </summary>
    public string? PartnerKey { get; set; }
}
