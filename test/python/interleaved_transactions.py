"""Independent transactional producers (librdkafka, through confluent-kafka) whose transactions
interleave on one partition, about a third of them aborted: the input the aborted-record filter
must get right.

Each producer has its own transactional.id. The producers take turns writing a chunk of their
current transaction, flushing it so that every chunk is its own record batch on the partition;
once a transaction holds --events events it is committed or aborted (seeded choice). Several
aborted transactions are therefore open at any offset, which is what a fetch starting in the
middle of them sees.

Prints one JSON line: committed and aborted event ids (counts and the aborted ids' transaction
numbers), for the test to compare with the lake.

Usage: interleaved_transactions.py --bootstrap HOST:PORT --topic T --partition P
         [--producers 4] [--transactions 400] [--events 40] [--chunk 10] [--seed N] [--run-id ID]
"""

import argparse
import datetime
import json
import random
import sys

from confluent_kafka import Producer


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partition", type=int, default=0)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--transactions", type=int, default=400)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--chunk", type=int, default=10)
    parser.add_argument("--abort-ratio", type=float, default=1 / 3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run-id", default="tx")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    producers = []
    for i in range(args.producers):
        p = Producer({
            "bootstrap.servers": args.bootstrap,
            "transactional.id": f"{args.run_id}-producer-{i}",
            "enable.idempotence": True,
            "linger.ms": 0,
            "compression.type": "lz4",
        })
        p.init_transactions(30)
        producers.append(p)

    now_ms = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    base_ms = now_ms - 10 * 60_000
    urls = ["https://shop.example.com/", "https://shop.example.com/cart", "https://shop.example.com/p/1001", "https://shop.example.com/help"]

    next_txn = 0
    # per producer: (txn number, events written so far) of its open transaction, or None
    open_txn = [None] * args.producers
    committed = 0
    aborted = 0
    aborted_txns = []
    committed_txns = 0

    def begin(i: int) -> bool:
        nonlocal next_txn
        if next_txn >= args.transactions:
            return False
        producers[i].begin_transaction()
        open_txn[i] = [next_txn, 0]
        next_txn += 1
        return True

    for i in range(args.producers):
        begin(i)

    while any(t is not None for t in open_txn):
        for i, p in enumerate(producers):
            txn = open_txn[i]
            if txn is None:
                continue
            number, written = txn
            n = min(args.chunk, args.events - written)
            for k in range(n):
                index = written + k
                ts = base_ms + number * 1000 + index
                event = {
                    "event_id": f"{args.run_id}-t{number:04d}-e{index:02d}",
                    "user_id": f"u-{number % 50:03d}",
                    "url": urls[(number + index) % len(urls)],
                    "referrer": None,
                    "ua": "interleaved-transactions/1.0",
                    "ts": ts,
                }
                p.produce(args.topic, json.dumps(event).encode(), key=event["user_id"].encode(), partition=args.partition, timestamp=ts)
            # One record batch per chunk: the producers' batches interleave on the partition.
            p.flush(30)
            txn[1] = written + n
            if txn[1] >= args.events:
                if rng.random() < args.abort_ratio:
                    p.abort_transaction(30)
                    aborted += args.events
                    aborted_txns.append(number)
                else:
                    p.commit_transaction(30)
                    committed += args.events
                    committed_txns += 1
                open_txn[i] = None
                begin(i)

    for p in producers:
        p.flush(30)
    print(json.dumps({
        "committed_events": committed,
        "aborted_events": aborted,
        "committed_transactions": committed_txns,
        "aborted_transactions": aborted_txns,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
