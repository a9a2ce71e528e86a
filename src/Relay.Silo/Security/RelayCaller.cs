namespace Relay.Silo.Security;

/// <summary>What a caller may do.</summary>
public enum RelayRole
{
    /// <summary>Send messages and read the ones it sent.</summary>
    Sender,

    /// <summary>Everything: the operator endpoints, the portal, the dashboard, the metrics.</summary>
    Operator,

    /// <summary>Reads <c>/metrics</c> and nothing else (<c>Relay:Metrics:ScrapeKey</c>).</summary>
    Scraper,
}

/// <summary>A caller the key ring knows: the key's configured name (never the key itself) and its role.</summary>
public sealed record RelayCaller(string Name, RelayRole Role);
