using Microsoft.Extensions.Options;
using Relay.Contracts;
using Relay.Core.Messages;
using Relay.Core.Options;
using Relay.Core.Storage;
using Relay.Grains;
using Relay.Grains.Delivery;
using Relay.Grains.Destinations;
using Relay.Grains.Operations;

namespace Relay.Silo.Operating;

/// <summary>
/// The one code path behind every operator action, whichever door it came through (the JSON operator API, the
/// portal): resubmit (edited or not, one message or the selected ones), discard, bulk operations (resubmit or discard
/// every delivery of a filter, in the background: <see cref="StartBulkAsync"/>), pause and resume. Each goes to the delivery
/// grains, which refuse what is not theirs to do (a delivered delivery is never sent again) and write the audit
/// entry with <c>by</c>, the name of the operator's key.
/// </summary>
/// <remarks>An error the caller caused is thrown as <see cref="RelayErrorException"/> (or the grain's <see cref="RelayGrainException"/>), before anything changed.</remarks>
public sealed class OperatorActions(IRelayStore store, IGrainFactory grains, DestinationControl control, IOptions<RelayOptions> options,
    TimeProvider time)
{
    /// <summary>Most messages one resubmit of selected messages takes.</summary>
    private const int PageSize = 500;

    /// <summary>How often a synchronous bulk request looks at its operation's progress.</summary>
    private static readonly TimeSpan OperationPollInterval = TimeSpan.FromMilliseconds(100);

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
    /// Starts a bulk operation in the background: resubmit every delivery of a status (DeadLettered, or InRetry:
    /// "retry now"), or discard every dead letter, of the filter. Answers it with its total; the schedulers make the
    /// attempts of what it resubmits.
    /// </summary>
    public async Task<BulkOperationView> StartBulkAsync(BulkAction action, BulkFilter filter, string by)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (action == BulkAction.Resubmit && filter.Status is not (DeliveryStatus.DeadLettered or DeliveryStatus.InRetry))
        {
            throw new RelayErrorException(RelayError.BadRequest($"Deliveries that are {filter.Status} cannot be resubmitted.",
                "Use \"status\": \"DeadLettered\" (the default), or \"InRetry\" to try those waiting for a retry now."));
        }

        if (action == BulkAction.Discard && filter.Status != DeliveryStatus.DeadLettered)
        {
            throw new RelayErrorException(RelayError.BadRequest($"Deliveries that are {filter.Status} cannot be discarded.",
                "Only dead-lettered deliveries are discarded: use \"status\": \"DeadLettered\" (the default)."));
        }

        // A destination that is not configured (any more) is no error: its dead letters can still be resubmitted or discarded.
        return await Operation(Guid.NewGuid().ToString("N")).Start(new BulkOperationRequest(action, filter, by));
    }

    /// <summary>
    /// Waits until the operation has ended (or <paramref name="cancellationToken"/> ends the wait: the operation goes
    /// on); answers it as it ended. The synchronous form of the bulk endpoints.
    /// </summary>
    public async Task<BulkOperationView> WaitAsync(BulkOperationView operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var grain = Operation(operation.Id);
        while (operation.IsRunning)
        {
            await Task.Delay(OperationPollInterval, time, cancellationToken);
            operation = await grain.Get() ?? operation;
        }

        return operation;
    }

    /// <summary>A bulk operation as it is now; null when there is none of that id (or the id is not one Relay makes).</summary>
    public async Task<BulkOperationView?> GetOperationAsync(string id) =>
        IsOperationId(id) ? await Operation(id).Get() : null;

    /// <summary>Cancels a running bulk operation; null when there is none of that id.</summary>
    public async Task<BulkOperationView?> CancelOperationAsync(string id, string by) =>
        IsOperationId(id) ? await Operation(id).Cancel(by) : null;

    /// <summary>The most recent bulk operations, newest first.</summary>
    public async Task<IReadOnlyList<BulkOperationView>> RecentOperationsAsync(int limit)
    {
        var ids = await grains.GetGrain<IBulkOperationIndexGrain>(0).Recent(limit);
        var views = await Task.WhenAll(ids.Select(id => Operation(id).Get()));
        return views.OfType<BulkOperationView>().ToList();
    }

    /// <summary>The bulk operation filter of the portal's message list: its dead letters (to its destination, when given).</summary>
    public static BulkFilter DeadLettersOf(MessageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return new BulkFilter
        {
            Status = DeliveryStatus.DeadLettered,
            Destination = query.Destination,
            Topic = query.Topic,
            AcceptedFrom = query.AcceptedFrom,
            AcceptedTo = query.AcceptedTo,
            IdContains = query.IdContains,
        };
    }

    /// <summary>Operation ids are what <see cref="StartBulkAsync"/> makes: 32 hex digits. Anything else names no operation.</summary>
    public static bool IsOperationId(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    private IBulkOperationGrain Operation(string id) => grains.GetGrain<IBulkOperationGrain>(id);

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
