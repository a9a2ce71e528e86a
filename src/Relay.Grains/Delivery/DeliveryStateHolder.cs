using System.Runtime.CompilerServices;
using Orleans.Storage;

namespace Relay.Grains.Delivery;

/// <summary>
/// A delivery grain's persisted state, read only when the grain needs what is stored. Orleans's
/// <c>[PersistentState]</c> reads the state on every activation; a brand-new delivery (the common case: one per
/// message) has nothing stored, and its first write (an insert) already tells whether something was: so
/// <see cref="DeliveryGrain.Accept"/> writes first and reads only when the insert is refused.
/// </summary>
internal sealed class DeliveryStateHolder(IGrainStorage storage, GrainId grainId)
{
    public const string StateName = "delivery";

    /// <summary>The state is made when first needed: a new delivery's comes whole from its envelope (issue 14).</summary>
    private readonly GrainState<DeliveryState> _state = new();

    /// <summary>Whether <see cref="State"/> is what the storage holds (read, or written by this activation).</summary>
    public bool Loaded { get; private set; }

    public DeliveryState State
    {
        get => _state.State ??= new DeliveryState();
        set => _state.State = value;
    }

    public bool RecordExists => _state.RecordExists;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask LoadAsync()
    {
        if (!Loaded)
        {
            await storage.ReadStateAsync(StateName, grainId, _state);
            Loaded = true;
        }
    }

    /// <summary>
    /// Writes the state: an insert when nothing was read or written yet (no ETag), else an update of the version held.
    /// The content (payload, headers) goes with it only when it changed (<see cref="DeliveryState.ContentUnsaved"/>).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteStateAsync()
    {
        await storage.WriteStateAsync(StateName, grainId, _state);
        State.ContentUnsaved = false;
        Loaded = true;
    }

    /// <summary>Forgets what this activation holds: the next call reads the storage again.</summary>
    public void Forget()
    {
        Loaded = false;
        _state.State = null!;
        _state.ETag = null;
        _state.RecordExists = false;
    }
}
