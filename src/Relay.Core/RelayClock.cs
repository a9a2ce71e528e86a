namespace Relay.Core;

public static class RelayClock
{
    /// <summary>Now, to the millisecond: the precision the stores keep, so a fresh answer and a stored one agree.</summary>
    public static DateTimeOffset Now(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow();
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }
}
