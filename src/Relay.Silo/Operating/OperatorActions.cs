using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;

namespace Relay.Silo.Operating;

/// <summary>
/// The one code path behind every operator action, whichever door it came through (the JSON operator API, the
/// portal): resubmit (edited or not, one message or many), discard, pause and resume. Each goes to the delivery
/// grains, which refuse what is not theirs to do (a delivered delivery is never sent again) and write the audit
/// entry with <c>by</c>, the name of the operator's key.
/// </summary>
/// <remarks>An error the caller caused is thrown as <see cref="RelayErrorException"/> (or the grain's <see cref="RelayGrainException"/>), before anything changed.</remarks>
public sealed class OperatorActions(IRelayStore store, IGrainFactory grains, DestinationControl control, IOptions<RelayOptions> options)
{
    /// <summary>Most deliveries one bulk resubmit touches.</summary>
    public const int BulkLimit = 100_000;

    /// <summary>Most messages one bulk resubmit by the portal's filter pages through.</summary>
    private const int PageSize = 500;

    /// <summary>Checks an edit before anything is sent: a known contract, a payload neither empty nor too large.</summary>
    public void CheckEdit(byte[]? payload, string? contract)
    {
        var relay = options.Value;
        if (contract is not null && !relay.Contracts.ContainsKey(contract) && contract != RelayOptions.DefaultContractName)
        {
            throw new RelayErrorException(RelayError.BadRequest($"Unknown contract '{contract}'."));
        }

        if (payload is { Length: 0 })
        {
            throw new RelayErrorException(RelayError.BadRequest("The edited payload is empty."));
        }

        if (payload is not null && payload.Length > relay.Limits.MaxPayloadBytes)
        {
            throw new RelayErrorException(RelayError.TooLarge($"The payload is larger than {relay.Limits.MaxPayloadBytes} bytes."));
        }
    }

    /// <summary>
    /// Resubmits one message's dead-lettered deliveries, or the one to <paramref name="destination"/> (which may then
    /// also be in retry), optionally edited; the first new attempt is made within the call. Answers the message after.
    /// </summary>
    public async Task<StoredMessage> ResubmitAsync(string id, string? destination, byte[]? payload, string? contract, string by,
        CancellationToken cancellationToken)
    {
        CheckEdit(payload, contract);
        var message = await GetAsync(id, cancellationToken);
        List<DeliveryRow> targets;
        if (destination is not null)
        {
            var named = message.Deliveries.FirstOrDefault(d => d.Destination == destination)
                ?? throw new RelayErrorException(RelayError.NotFound($"Message '{id}' has no delivery to '{destination}'."));
            targets = [named];
        }
        else
        {
            targets = message.Deliveries.Where(d => d.Status == DeliveryStatus.DeadLettered).ToList();
            if (targets.Count == 0)
            {
                throw new RelayErrorException(RelayError.Conflict($"No delivery of message '{id}' is dead-lettered.",
                    "Only dead-lettered deliveries are resubmitted; a delivered one is never sent again."));
            }
        }

        var command = new ResubmitCommand
        {
            Payload = payload,
            Contract = contract,
            By = by,
            AttemptNow = true,
            Named = destination is not null,
        };
        await Task.WhenAll(targets.Select(d => Delivery(d.Destination, id).Resubmit(command)));
        return await GetAsync(id, cancellationToken);
    }

    /// <summary>
    /// Resubmits every delivery of a status (DeadLettered, or InRetry: "retry now") and optionally a destination; the
    /// schedulers make the attempts. Answers how many.
    /// </summary>
    public async Task<int> ResubmitByStatusAsync(DeliveryStatus status, string? destination, string by, CancellationToken cancellationToken)
    {
        if (status is not (DeliveryStatus.DeadLettered or DeliveryStatus.InRetry))
        {
            throw new RelayErrorException(RelayError.BadRequest($"Deliveries that are {status} cannot be resubmitted.",
                "Use \"status\": \"DeadLettered\" (the default), or \"InRetry\" to try those waiting for a retry now."));
        }

        // InRetry ones are named by the filter explicitly: "retry now", as ServicePulse's retry-all.
        var command = new ResubmitCommand { By = by, AttemptNow = false, Named = status == DeliveryStatus.InRetry };
        var count = 0;
        var seen = new HashSet<DeliveryKey>();
        while (count < BulkLimit)
        {
            var batch = await store.FindDeliveriesAsync(status, destination, PageSize, cancellationToken);
            var fresh = batch.Where(seen.Add).ToList();
            if (fresh.Count == 0)
            {
                break;
            }

            count += await ResubmitEachAsync(fresh, command, cancellationToken);
        }

        return count;
    }

    /// <summary>Resubmits the dead-lettered deliveries (to <paramref name="destination"/>, when given) of the named messages.</summary>
    public async Task<int> ResubmitMessagesAsync(IReadOnlyCollection<string> ids, string? destination, string by, CancellationToken cancellationToken)
    {
        if (ids.Count > PageSize)
        {
            throw new RelayErrorException(RelayError.BadRequest($"Select at most {PageSize} messages at once.", "Or resubmit all that match the filter."));
        }

        var keys = new List<DeliveryKey>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var message = await store.GetMessageAsync(id, includeAudit: false, cancellationToken);
            keys.AddRange(DeadLettered(message, destination));
        }

        return await ResubmitEachAsync(keys, new ResubmitCommand { By = by, AttemptNow = false }, cancellationToken);
    }

    /// <summary>
    /// Resubmits the dead-lettered deliveries of every message the filter matches (the portal's list: destination,
    /// topic, accepted time, id text), at most <see cref="BulkLimit"/>. Answers how many.
    /// </summary>
    public async Task<int> ResubmitMatchingAsync(MessageQuery filter, string by, CancellationToken cancellationToken)
    {
        var command = new ResubmitCommand { By = by, AttemptNow = false };
        var query = filter with { Status = DeliveryStatus.DeadLettered, Limit = PageSize, Cursor = null };
        var count = 0;
        do
        {
            var page = await store.ListMessagesAsync(query, cancellationToken);
            count += await ResubmitEachAsync(page.Items.SelectMany(m => DeadLettered(m, filter.Destination)).ToList(), command, cancellationToken);
            query = query with { Cursor = page.NextCursor };
        }
        while (query.Cursor is not null && count < BulkLimit);

        return count;
    }

    /// <summary>Discards a message's dead-lettered deliveries (or the one to <paramref name="destination"/>). Answers the message after.</summary>
    public async Task<StoredMessage> DiscardAsync(string id, string? destination, string by, CancellationToken cancellationToken)
    {
        var message = await GetAsync(id, cancellationToken);
        var targets = DeadLettered(message, destination).ToList();
        if (targets.Count == 0)
        {
            throw new RelayErrorException(RelayError.Conflict($"No delivery of message '{id}' is dead-lettered.", "Only a dead-lettered delivery can be discarded."));
        }

        await Task.WhenAll(targets.Select(key => grains.GetGrain<IDeliveryGrain>(key.ToString()).Discard(by)));
        return await GetAsync(id, cancellationToken);
    }

    /// <summary>Pauses or resumes a destination (<paramref name="paused"/>); this silo sees the new holds at once.</summary>
    public Task<DestinationHolds> SetPausedAsync(string destination, bool paused, string by) =>
        ControlAsync(destination, grain => paused ? grain.Pause(destination, by) : grain.Resume(destination, by));

    /// <summary>Opens (until closed by hand or a probe succeeds) or closes a destination's circuit.</summary>
    public Task<DestinationHolds> SetCircuitAsync(string destination, CircuitState state, string by) =>
        ControlAsync(destination, grain => grain.SetCircuit(destination, state, by));

    private async Task<DestinationHolds> ControlAsync(string destination, Func<IDestinationControlGrain, Task<DestinationHolds>> action)
    {
        if (!options.Value.Destinations.ContainsKey(destination))
        {
            throw new RelayErrorException(RelayError.NotFound($"Unknown destination '{destination}'."));
        }

        var holds = await action(control.Grain);
        control.Update(holds);
        return holds;
    }

    private async Task<StoredMessage> GetAsync(string id, CancellationToken cancellationToken)
    {
        var message = await store.GetMessageAsync(id, includeAudit: false, cancellationToken);
        return message is null || message.Deliveries.Count == 0
            ? throw new RelayErrorException(RelayError.NotFound($"No message with id '{id}'."))
            : message;
    }

    private static IEnumerable<DeliveryKey> DeadLettered(StoredMessage? message, string? destination) =>
        message?.Deliveries
            .Where(d => d.Status == DeliveryStatus.DeadLettered && (string.IsNullOrEmpty(destination) || d.Destination == destination))
            .Select(d => new DeliveryKey(d.Destination, d.MessageId))
        ?? [];

    private IDeliveryGrain Delivery(string destination, string id) =>
        grains.GetGrain<IDeliveryGrain>(new DeliveryKey(destination, id).ToString());

    /// <summary>Resubmits each delivery; one whose state moved on since it was read (resubmitted, discarded meanwhile) is skipped.</summary>
    private async Task<int> ResubmitEachAsync(IReadOnlyList<DeliveryKey> keys, ResubmitCommand command, CancellationToken cancellationToken)
    {
        var count = 0;
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (key, _) =>
        {
            try
            {
                await grains.GetGrain<IDeliveryGrain>(key.ToString()).Resubmit(command);
                Interlocked.Increment(ref count);
            }
            catch (RelayGrainException)
            {
                // Nothing to do: it is no longer dead-lettered.
            }
        });
        return count;
    }
}
