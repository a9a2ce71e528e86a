-- Relay on PostgreSQL, script 10: ordering queues as rows, one per waiting message, scoped by sender.
--
-- Until this script, an ordering key's queue was one grain state in OrleansStorage holding the whole list of its
-- message ids, rewritten on every enqueue and every completion: at 10,000 messages waiting, each enqueue wrote the
-- 10,000 ids again. Here each waiting message is one row: an enqueue inserts one, a completion deletes one.
--
-- queue_key is destination/sender/orderingKey (Relay.Core's OrderingQueueKey): queues are now per sender too. A queue
-- stored before (the state of the grain 'orderingkey/destination/orderingKey' in OrleansStorage, written in Orleans's
-- binary form) is moved into these rows by the silo itself, the first time one of its keys is used after the upgrade
-- (Relay.Grains' OrderingKeyGrain): SQL cannot read that form. Nothing to migrate here.

CREATE TABLE IF NOT EXISTS ordering_queue (
    queue_key  text COLLATE "C" NOT NULL,
    seq        bigint           NOT NULL,
    message_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (queue_key, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS ux_ordering_queue_message ON ordering_queue (queue_key, message_id);

INSERT INTO relay_schema_version (version, script) VALUES (10, '0010_ordering_queue.sql')
ON CONFLICT (version) DO NOTHING;
