"""A transactional offset commit left pending (librdkafka, through confluent-kafka): the input of
the test that OffsetFetch with require_stable waits for it (test/integration/kafka/).

Sends the offset (with metadata) of one partition to a consumer group inside a transaction, prints
`pending`, then waits for a line on stdin: `commit` commits the transaction, `abort` aborts it; it
prints `committed` or `aborted` and exits. The transaction is never left open for long: at EOF on
stdin it aborts.

With --produce-topic (and --produce-partition), one record is produced to that partition in the same
transaction first: a transaction left open at the start of a log (a killed member's), which holds the
partition's last stable offset back.

Usage: pending_offset_commit.py --bootstrap HOST:PORT --transactional-id ID --group G --topic T
         --partition P --offset N --metadata TEXT [--produce-topic T2 --produce-partition P2]
"""

import argparse
import sys

from confluent_kafka import Consumer, Producer, TopicPartition


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--transactional-id", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partition", type=int, required=True)
    parser.add_argument("--offset", type=int, required=True)
    parser.add_argument("--metadata", default="")
    parser.add_argument("--produce-topic")
    parser.add_argument("--produce-partition", type=int, default=0)
    args = parser.parse_args()

    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "transactional.id": args.transactional_id,
        "transaction.timeout.ms": 60000,
    })
    # Only for the group's metadata (group id; no generation: the consumer never joins).
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group, "enable.auto.commit": False})
    producer.init_transactions(30)
    producer.begin_transaction()
    if args.produce_topic:
        producer.produce(args.produce_topic, value=b"open", partition=args.produce_partition)
        if producer.flush(30) != 0:
            raise RuntimeError("the record was not delivered within 30 s")
    offsets = [TopicPartition(args.topic, args.partition, args.offset, metadata=args.metadata)]
    producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
    print("pending", flush=True)

    command = sys.stdin.readline().strip()
    if command == "commit":
        producer.commit_transaction(30)
        print("committed", flush=True)
    else:
        producer.abort_transaction(30)
        print("aborted", flush=True)
    consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
