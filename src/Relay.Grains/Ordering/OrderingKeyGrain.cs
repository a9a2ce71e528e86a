namespace Relay.Grains.Ordering;

internal sealed class OrderingKeyGrain(
    [PersistentState("ordering", RelayStorage.ControlName)] IPersistentState<OrderingKeyState> state) : Grain, IOrderingKeyGrain
{
    public async Task<bool> Enqueue(string messageId)
    {
        var queue = state.State.Queue;
        if (!queue.Contains(messageId, StringComparer.Ordinal))
        {
            queue.Add(messageId);
            await state.WriteStateAsync();
        }

        return string.Equals(queue[0], messageId, StringComparison.Ordinal);
    }

    public async Task<string?> Complete(string messageId)
    {
        if (state.State.Queue.Remove(messageId))
        {
            await state.WriteStateAsync();
        }

        return state.State.Queue.Count > 0 ? state.State.Queue[0] : null;
    }
}

[GenerateSerializer]
public sealed class OrderingKeyState
{
    /// <summary>Message ids in acceptance order; the first is the head.</summary>
    [Id(0)] public List<string> Queue { get; set; } = [];
}
