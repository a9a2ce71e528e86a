using Npgsql;
using Relay.Core.Storage;

namespace Relay.Storage.AdoNet;

/// <summary>
/// The ordering queues on PostgreSQL (<c>ordering_queue</c>, script 0010): one row per waiting message. An enqueue is
/// one statement (an indexed insert, and the head), a removal one (an indexed delete, and the head): one round trip and
/// one commit each, whatever the queue's depth.
/// </summary>
internal sealed class PostgresOrderingQueueStore(NpgsqlDataSource dataSource) : IOrderingQueueStore
{
    /// <summary>
    /// The statement's snapshot does not see its own insert: the head is the first row seen, else the message just
    /// added (the queue was empty). A concurrent insert of the same sequence (two activations of one key, which Orleans
    /// makes rare) fails on the primary key: the caller's write fails and is tried again.
    /// </summary>
    private const string EnqueueSql = """
        WITH added AS (
            INSERT INTO ordering_queue (queue_key, seq, message_id)
            SELECT @queue, COALESCE(MAX(seq), 0) + 1, @message FROM ordering_queue WHERE queue_key = @queue
            ON CONFLICT (queue_key, message_id) DO NOTHING
            RETURNING message_id)
        SELECT (SELECT count(*) FROM added)::int,
               COALESCE((SELECT message_id FROM ordering_queue WHERE queue_key = @queue ORDER BY seq LIMIT 1),
                        (SELECT message_id FROM added))
        """;

    /// <summary>The statement's snapshot still sees the deleted row: the head is the first other one.</summary>
    private const string RemoveSql = """
        WITH removed AS (
            DELETE FROM ordering_queue WHERE queue_key = @queue AND message_id = @message RETURNING seq)
        SELECT (SELECT count(*) FROM removed)::int,
               (SELECT message_id FROM ordering_queue WHERE queue_key = @queue AND message_id <> @message ORDER BY seq LIMIT 1)
        """;

    public async Task<int> CountAsync(string queue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var command = dataSource.CreateCommand("SELECT count(*)::int FROM ordering_queue WHERE queue_key = @queue");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("queue", queue);
            return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public Task<OrderingQueueChange> EnqueueAsync(string queue, string messageId, CancellationToken cancellationToken = default) =>
        ChangeAsync(EnqueueSql, queue, messageId, cancellationToken);

    public Task<OrderingQueueChange> RemoveAsync(string queue, string messageId, CancellationToken cancellationToken = default) =>
        ChangeAsync(RemoveSql, queue, messageId, cancellationToken);

    private async Task<OrderingQueueChange> ChangeAsync(string sql, string queue, string messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(messageId);
        var command = dataSource.CreateCommand(sql);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("queue", queue);
            command.Parameters.AddWithValue("message", messageId);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return new OrderingQueueChange(reader.GetInt32(0) == 1, reader.IsDBNull(1) ? null : reader.GetString(1));
            }
        }
    }
}
