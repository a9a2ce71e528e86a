using Relay.Core.Storage;
using Relay.Storage.Sqlite.Writing;

namespace Relay.Storage.Sqlite;

/// <summary>
/// The ordering queues in the SQLite file (<c>ordering_queue</c>, schema version 5): one row per waiting message,
/// written through the group-commit writer like every other write. An enqueue is one indexed insert, a removal one
/// indexed delete: the work does not grow with the queue.
/// </summary>
internal sealed class SqliteOrderingQueueStore(SqliteDatabase database) : IOrderingQueueStore
{
    private const string HeadSql = "SELECT message_id FROM ordering_queue WHERE queue_key = $queue ORDER BY seq LIMIT 1";

    public async Task<int> CountAsync(string queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var connection = await database.OpenReadConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM ordering_queue WHERE queue_key = $queue";
            command.Parameters.AddWithValue("$queue", queue);
            return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public Task<OrderingQueueChange> EnqueueAsync(string queue, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(messageId);
        return database.Writer.EnqueueAsync(new Enqueue(queue, messageId, cancellationToken));
    }

    public Task<OrderingQueueChange> RemoveAsync(string queue, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(messageId);
        return database.Writer.EnqueueAsync(new Remove(queue, messageId, cancellationToken));
    }

    private static string? Head(WriterSession session, string queue)
    {
        var command = session.Command(HeadSql);
        command.Parameters.AddWithValue("$queue", queue);
        return command.ExecuteScalar() as string;
    }

    /// <summary>The next sequence is the tail's plus one (the primary key's last entry); a message queued already is left as it is.</summary>
    private sealed class Enqueue(string queue, string messageId, CancellationToken cancellationToken)
        : WriteOperation<OrderingQueueChange>(cancellationToken)
    {
        public override string Describe() => $"ordering queue {queue}";

        protected override OrderingQueueChange Run(WriterSession session)
        {
            var command = session.Command("""
                INSERT OR IGNORE INTO ordering_queue (queue_key, seq, message_id)
                SELECT $queue, COALESCE(MAX(seq), 0) + 1, $message FROM ordering_queue WHERE queue_key = $queue
                """);
            command.Parameters.AddWithValue("$queue", queue);
            command.Parameters.AddWithValue("$message", messageId);
            var added = command.ExecuteNonQuery() == 1;
            return new OrderingQueueChange(added, Head(session, queue));
        }
    }

    private sealed class Remove(string queue, string messageId, CancellationToken cancellationToken)
        : WriteOperation<OrderingQueueChange>(cancellationToken)
    {
        public override string Describe() => $"ordering queue {queue}";

        protected override OrderingQueueChange Run(WriterSession session)
        {
            var command = session.Command("DELETE FROM ordering_queue WHERE queue_key = $queue AND message_id = $message");
            command.Parameters.AddWithValue("$queue", queue);
            command.Parameters.AddWithValue("$message", messageId);
            var removed = command.ExecuteNonQuery() == 1;
            return new OrderingQueueChange(removed, Head(session, queue));
        }
    }
}
