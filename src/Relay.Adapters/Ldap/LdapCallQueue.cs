using System.Collections.Concurrent;

namespace Relay.Adapters.Ldap;

/// <summary>
/// A fixed number of dedicated threads that run the LDAP client library's blocking calls, so that a slow or silent
/// directory holds at most these threads, never the thread pool (which the silo, Orleans and ASP.NET Core need).
/// A call whose caller gave up before a thread was free is skipped, not run late. The threads start at the first call.
/// </summary>
internal sealed class LdapCallQueue : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly int _threads;
    private readonly object _startLock = new();
    private bool _started;

    public LdapCallQueue(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _threads = threads;
    }

    /// <summary>
    /// Runs <paramref name="call"/> on one of the dedicated threads, unless <paramref name="skip"/> is cancelled or
    /// <paramref name="within"/> has passed before a thread is free (its caller has given up by then).
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> call, TimeSpan within, CancellationToken skip)
    {
        EnsureStarted();
        var queued = TimeProvider.System.GetTimestamp();
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            if (skip.IsCancellationRequested || TimeProvider.System.GetElapsedTime(queued) >= within)
            {
                completion.TrySetCanceled(CancellationToken.None);
                return;
            }

            try
            {
                completion.TrySetResult(call());
            }
            catch (Exception ex)
            {
                completion.TrySetException(ex);
            }
        });
        return completion.Task;
    }

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _started))
        {
            return;
        }

        lock (_startLock)
        {
            if (_started)
            {
                return;
            }

            for (var i = 0; i < _threads; i++)
            {
                new Thread(Work) { IsBackground = true, Name = $"Relay LDAP {i + 1}" }.Start();
            }

            Volatile.Write(ref _started, true);
        }
    }

    private void Work()
    {
        foreach (var call in _work.GetConsumingEnumerable())
        {
            call();
        }
    }

    public void Dispose() => _work.CompleteAdding();
}
