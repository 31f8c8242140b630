/**
 * The state of a transactional id at its transaction coordinator, read with bare FindCoordinator
 * (v1, key type 1) and DescribeTransactions (v0, KIP-664, Kafka 3.0+) requests — kafkajs has no
 * DescribeTransactions.
 *
 * Why: when an EndTxn(commit) fails (the coordinator's broker stops, the request times out, the
 * thread that sent it dies), the transaction may or may not have committed. Sending the batch again
 * in either case would duplicate it; this tells which (`resolveCommitOutcome`).
 *
 * Plaintext only, like brokerMetadataProbe.ts: with TLS or SASL configured the outcome stays
 * 'unknown' and callers fall back to sending the batch again.
 */
import { createConnection } from 'node:net';
import type { Config } from '../config/schema.js';

const FIND_COORDINATOR = { key: 10, version: 1 };
const DESCRIBE_TRANSACTIONS = { key: 65, version: 0 };
const COORDINATOR_TYPE_TRANSACTION = 1;
const ERROR_TRANSACTIONAL_ID_NOT_FOUND = 105;

export interface TransactionDescription {
  /** Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence; NotFound. */
  state: string;
  producerId: bigint;
  producerEpoch: number;
  startTimeMs: bigint;
}

class Writer {
  private readonly parts: Buffer[] = [];
  int8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    this.parts.push(b);
    return this;
  }
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  uvarint(v: number): this {
    const bytes: number[] = [];
    while (v >= 0x80) {
      bytes.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    bytes.push(v);
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  string(v: string): this {
    const bytes = Buffer.from(v, 'utf8');
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  compactString(v: string): this {
    const bytes = Buffer.from(v, 'utf8');
    this.uvarint(bytes.length + 1);
    this.parts.push(bytes);
    return this;
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  int64(): bigint {
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buf[this.offset++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
      shift += 7;
    }
  }
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const v = this.buf.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
  compactString(): string {
    const length = this.uvarint() - 1;
    const v = this.buf.toString('utf8', this.offset, this.offset + Math.max(0, length));
    this.offset += Math.max(0, length);
    return v;
  }
  skipTags(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.offset += this.uvarint();
    }
  }
}

/** One request over a fresh plaintext connection; resolves with the response after its correlation id. */
function request(host: string, port: number, api: { key: number; version: number }, flexible: boolean, body: Buffer, timeoutMs: number): Promise<Reader> {
  const correlationId = Math.floor(Math.random() * 0x7fffffff);
  const header = new Writer().int16(api.key).int16(api.version).int32(correlationId).string('sdp-txn-probe');
  if (flexible) header.uvarint(0);
  const payload = Buffer.concat([header.buffer(), body]);
  const frame = Buffer.concat([new Writer().int32(payload.length).buffer(), payload]);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let received = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      socket.destroy();
      const reader = new Reader(received.subarray(4, 4 + size));
      const answeredId = reader.int32();
      if (answeredId !== correlationId) return reject(new Error(`answer from ${host}:${port} has correlation id ${answeredId}, expected ${correlationId}`));
      if (flexible) reader.skipTags();
      resolve(reader);
    });
  });
}

function hostPort(server: string): { host: string; port: number } {
  const i = server.lastIndexOf(':');
  return { host: server.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(server.slice(i + 1)) };
}

async function findTransactionCoordinator(config: Config, transactionalId: string, timeoutMs: number): Promise<{ host: string; port: number }> {
  const body = new Writer().string(transactionalId).int8(COORDINATOR_TYPE_TRANSACTION).buffer();
  let lastError: unknown;
  for (const server of config.kafka.bootstrap_servers) {
    const { host, port } = hostPort(server);
    try {
      const r = await request(host, port, FIND_COORDINATOR, false, body, timeoutMs);
      r.int32(); // throttle_time_ms
      const errorCode = r.int16();
      const message = r.nullableString();
      const nodeId = r.int32();
      const coordinatorHost = r.nullableString() ?? '';
      const coordinatorPort = r.int32();
      if (errorCode !== 0) throw new Error(`FindCoordinator error ${errorCode}${message ? ` (${message})` : ''}`);
      if (nodeId < 0) throw new Error('no transaction coordinator yet');
      return { host: coordinatorHost, port: coordinatorPort };
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** The coordinator's current view of `transactionalId`; rejects when it cannot be asked now. */
export async function describeTransaction(config: Config, transactionalId: string, timeoutMs = 5_000): Promise<TransactionDescription> {
  const coordinator = await findTransactionCoordinator(config, transactionalId, timeoutMs);
  const body = new Writer().uvarint(2).compactString(transactionalId).uvarint(0).buffer();
  const r = await request(coordinator.host, coordinator.port, DESCRIBE_TRANSACTIONS, true, body, timeoutMs);
  r.int32(); // throttle_time_ms
  const count = r.uvarint() - 1;
  if (count !== 1) throw new Error(`DescribeTransactions answered ${count} states for one id`);
  const errorCode = r.int16();
  r.compactString(); // transactional_id
  const state = r.compactString();
  r.int32(); // transaction_timeout_ms
  const startTimeMs = r.int64();
  const producerId = r.int64();
  const producerEpoch = r.int16();
  if (errorCode === ERROR_TRANSACTIONAL_ID_NOT_FOUND) return { state: 'NotFound', producerId, producerEpoch, startTimeMs };
  if (errorCode !== 0) throw new Error(`DescribeTransactions error ${errorCode} for ${transactionalId}`);
  return { state, producerId, producerEpoch, startTimeMs };
}

export type CommitOutcome = 'committed' | 'not-committed' | 'unknown';

export interface ResolveOptions {
  /**
   * An EndTxn already on its way may still reach the coordinator: "Ongoing" counts as
   * not committed only once it has lasted this long (the sender's connections are closed by then).
   */
  settleMs?: number;
  /** Give up ('unknown') after this long, e.g. while no coordinator can be reached. */
  timeoutMs?: number;
}

/**
 * Whether the last transaction of `transactionalId`, whose EndTxn(commit) may have been sent,
 * committed. Only meaningful before anyone re-initialises the id (InitProducerId resets the state):
 * call it from the producer that owns the id, before it starts a new producer.
 */
export async function resolveCommitOutcome(config: Config, transactionalId: string, options: ResolveOptions = {}): Promise<CommitOutcome> {
  if (config.kafka.ssl || config.kafka.sasl) return 'unknown';
  const settleMs = options.settleMs ?? 1_500;
  const deadlineMs = Date.now() + (options.timeoutMs ?? 60_000);
  let ongoingSinceMs: number | undefined;
  for (;;) {
    try {
      const { state } = await describeTransaction(config, transactionalId);
      if (state === 'PrepareCommit' || state === 'CompleteCommit') return 'committed';
      if (state === 'PrepareAbort' || state === 'CompleteAbort' || state === 'PrepareEpochFence' || state === 'Empty' || state === 'NotFound' || state === 'Dead') return 'not-committed';
      // Ongoing: the commit has not arrived (yet).
      ongoingSinceMs ??= Date.now();
      if (Date.now() - ongoingSinceMs >= settleMs) return 'not-committed';
    } catch {
      // The coordinator is moving (its broker stopped): ask again.
    }
    if (Date.now() > deadlineMs) return 'unknown';
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
