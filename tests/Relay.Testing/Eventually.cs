using System.Diagnostics;

namespace Relay.Testing;

/// <summary>Waits for a condition with a deadline: the tests' only way to wait.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }

            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Not reached within {limit}: {what ?? "condition"}. Last value: {Describe(last)}");
            }

            await Task.Delay(50);
        }
    }

    public static Task Until(Func<bool> done, TimeSpan? timeout = null, string? what = null) =>
        Until(() => Task.FromResult(done()), d => d, timeout, what);

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        System.Text.Json.Nodes.JsonNode node => node.ToJsonString(),
        _ => value.ToString() ?? "",
    };
}
