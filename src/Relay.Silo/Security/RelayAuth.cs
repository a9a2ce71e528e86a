namespace Relay.Silo.Security;

/// <summary>Names of Relay's authentication schemes, policies and claims.</summary>
public static class RelayAuth
{
    /// <summary><c>X-Api-Key: key</c> or <c>Authorization: Bearer key</c>.</summary>
    public const string ApiKeyScheme = "RelayApiKey";

    /// <summary>The portal's sign-in cookie (set by <c>POST /portal/login</c> with an operator key).</summary>
    public const string PortalCookieScheme = "RelayPortal";

    /// <summary>May send and read its own messages (an operator may too).</summary>
    public const string SenderPolicy = "relay-sender";

    /// <summary>An operator, by API key: the operator API, <c>/metrics</c>.</summary>
    public const string OperatorPolicy = "relay-operator";

    /// <summary><c>/metrics</c>: an operator, the scrape key, or a caller from <c>Relay:Metrics:AllowedNetworks</c>.</summary>
    public const string MetricsPolicy = "relay-metrics";

    /// <summary>An operator, by portal cookie or API key; an unknown browser is sent to the sign-in page.</summary>
    public const string PortalPolicy = "relay-portal";

    /// <summary>A portal session's key, as <see cref="ApiKeyRing.Fingerprint"/>: checked against the configured keys on every request.</summary>
    public const string KeyClaim = "relay:key";

    /// <summary>The claim type of <see cref="RelayCaller.Role"/>.</summary>
    public const string RoleClaim = "relay:role";
}
