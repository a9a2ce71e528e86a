namespace Relay.Core.Delivery;

/// <summary>
/// Destinations that an adapter found unusable as configured, on this silo, until it finds them usable again: an OAuth
/// token endpoint that refuses the client (<c>invalid_client</c>), for instance. No attempt would succeed and each would
/// count against its delivery's contract, so such a destination is held like a paused one (deliveries wait, Pending or
/// InRetry, not counted), and the problem is shown on its page and in <c>GET /destinations</c>. The adapter clears it
/// when its credentials are accepted again (a secret rotated, the client enabled again).
/// </summary>
public sealed class DestinationFaults
{
    private readonly object _gate = new();
    private Dictionary<string, string> _faults = new(StringComparer.Ordinal);

    /// <summary>Raised after a fault is reported or cleared.</summary>
    public event Action? Changed;

    /// <summary>The faults now, by destination: a sentence a person can act on, never a secret.</summary>
    public IReadOnlyDictionary<string, string> Current => Volatile.Read(ref _faults);

    public void Report(string destination, string problem)
    {
        lock (_gate)
        {
            if (_faults.TryGetValue(destination, out var known) && known == problem)
            {
                return;
            }

            Volatile.Write(ref _faults, new Dictionary<string, string>(_faults, StringComparer.Ordinal) { [destination] = problem });
        }

        Changed?.Invoke();
    }

    public void Clear(string destination)
    {
        lock (_gate)
        {
            if (!_faults.ContainsKey(destination))
            {
                return;
            }

            var next = new Dictionary<string, string>(_faults, StringComparer.Ordinal);
            next.Remove(destination);
            Volatile.Write(ref _faults, next);
        }

        Changed?.Invoke();
    }
}
