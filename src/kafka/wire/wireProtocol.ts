/**
 * The few Kafka wire-protocol pieces the project speaks without kafkajs (which lacks the requests
 * it needs: a Metadata request to one chosen broker, DescribeTransactions): big-endian writers and
 * readers, and one request over a fresh connection, secured as kafkajs's are: TLS with the same
 * options and SASL (PLAIN, SCRAM-SHA-256/512) before the request (security.ts builds both).
 */
import { createConnection, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { kafkaMechanismName, plainMessage, ScramClient } from './saslScram.js';
import type { ConnectionSecurity } from '../security.js';

export interface ApiVersion {
  key: number;
  version: number;
}

export class WireWriter {
  private readonly parts: Buffer[] = [];

  private push(size: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(size);
    write(b);
    this.parts.push(b);
    return this;
  }

  int8(v: number): this {
    return this.push(1, (b) => b.writeInt8(v));
  }

  int16(v: number): this {
    return this.push(2, (b) => b.writeInt16BE(v));
  }

  int32(v: number): this {
    return this.push(4, (b) => b.writeInt32BE(v));
  }

  int64(v: bigint): this {
    return this.push(8, (b) => b.writeBigInt64BE(v));
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

  bytes(v: Buffer): this {
    this.int32(v.length);
    this.parts.push(v);
    return this;
  }

  compactString(v: string): this {
    const bytes = Buffer.from(v, 'utf8');
    this.uvarint(bytes.length + 1);
    this.parts.push(bytes);
    return this;
  }

  array<T>(items: readonly T[], write: (w: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class WireReader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  private advance<T>(size: number, read: (at: number) => T): T {
    const v = read(this.offset);
    this.offset += size;
    return v;
  }

  int8(): number {
    return this.advance(1, (at) => this.buf.readInt8(at));
  }

  int16(): number {
    return this.advance(2, (at) => this.buf.readInt16BE(at));
  }

  int32(): number {
    return this.advance(4, (at) => this.buf.readInt32BE(at));
  }

  int64(): bigint {
    return this.advance(8, (at) => this.buf.readBigInt64BE(at));
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
    return this.advance(length, (at) => this.buf.toString('utf8', at, at + length));
  }

  string(): string {
    return this.nullableString() ?? '';
  }

  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) return Buffer.alloc(0);
    return this.advance(length, (at) => Buffer.from(this.buf.subarray(at, at + length)));
  }

  compactString(): string {
    const length = Math.max(0, this.uvarint() - 1);
    return this.advance(length, (at) => this.buf.toString('utf8', at, at + length));
  }

  /** A COMPACT_NULLABLE_STRING: length + 1 as an unsigned varint, 0 for null. */
  compactNullableString(): string | null {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    const length = lengthPlusOne - 1;
    return this.advance(length, (at) => this.buf.toString('utf8', at, at + length));
  }

  array<T>(item: () => T): T[] {
    const length = this.int32();
    const items: T[] = [];
    for (let i = 0; i < length; i++) items.push(item());
    return items;
  }

  /** The unread bytes (a response body handed to another decoder). */
  rest(): Buffer {
    return this.buf.subarray(this.offset);
  }

  skipTags(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      // Not `this.offset += this.uvarint()`: that adds to the offset read before the size's own byte.
      const size = this.uvarint();
      this.offset += size;
    }
  }
}

/** A request frame: size, header (v1, or v2 with empty tags when `flexible`), body. */
export function encodeRequest(
  api: ApiVersion,
  correlationId: number,
  clientId: string,
  body: Buffer,
  flexible = false,
): Buffer {
  const header = new WireWriter().int16(api.key).int16(api.version).int32(correlationId).string(clientId);
  if (flexible) header.uvarint(0);
  const payload = Buffer.concat([header.buffer(), body]);
  return Buffer.concat([new WireWriter().int32(payload.length).buffer(), payload]);
}

const SASL_HANDSHAKE = { key: 17, version: 1 };
const SASL_AUTHENTICATE = { key: 36, version: 1 };
const ERROR_SASL_AUTHENTICATION_FAILED = 58;

export interface RequestOptions {
  timeoutMs: number;
  clientId: string;
  flexible?: boolean;
  /** TLS and SASL, as for kafkajs clients; undefined or empty: plaintext. */
  security?: ConnectionSecurity;
}

/** A connection that sends requests one at a time and hands back each answer's body. */
class WireConnection {
  /** What arrived and is not answered yet, concatenated once a whole answer is there (an answer may be megabytes). */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiting: { correlationId: number; flexible: boolean; resolve: (r: WireReader) => void } | undefined;
  private failure: Error | undefined;
  private rejectWaiting: ((err: Error) => void) | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly where: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.once('error', (err) => this.fail(err));
    socket.once('close', () => this.fail(new Error(`${where} closed the connection`)));
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.socket.destroy();
    this.rejectWaiting?.(this.failure);
    this.rejectWaiting = undefined;
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < 4) return;
    if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    const size = this.chunks[0]!.readInt32BE(0);
    if (this.buffered < 4 + size || !this.waiting) return;
    const received = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const reader = new WireReader(received.subarray(4, 4 + size));
    const rest = received.subarray(4 + size);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    const { correlationId, flexible, resolve } = this.waiting;
    this.waiting = undefined;
    this.rejectWaiting = undefined;
    const answeredId = reader.int32();
    if (answeredId !== correlationId) {
      this.fail(new Error(`answer from ${this.where} has correlation id ${answeredId}, expected ${correlationId}`));
      return;
    }
    if (flexible) reader.skipTags();
    resolve(reader);
  }

  request(api: ApiVersion, body: Buffer, clientId: string, flexible = false): Promise<WireReader> {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = Math.floor(Math.random() * 0x7fffffff);
    return new Promise((resolve, reject) => {
      this.waiting = { correlationId, flexible, resolve };
      this.rejectWaiting = reject;
      this.socket.write(encodeRequest(api, correlationId, clientId, body, flexible));
    });
  }

  close(): void {
    this.failure ??= new Error('closed');
    this.socket.destroy();
  }
}

function saslError(message: string): Error {
  return Object.assign(new Error(message), { code: 'SASL_AUTHENTICATION_FAILED' });
}

/** SaslHandshake, then SaslAuthenticate round trips (one for PLAIN, two for SCRAM). */
async function authenticate(
  conn: WireConnection,
  sasl: NonNullable<ConnectionSecurity['sasl']>,
  clientId: string,
  where: string,
): Promise<void> {
  const name = kafkaMechanismName(sasl.mechanism);
  const handshake = await conn.request(SASL_HANDSHAKE, new WireWriter().string(name).buffer(), clientId);
  const handshakeError = handshake.int16();
  const enabled = handshake.array(() => handshake.string());
  if (handshakeError !== 0)
    throw saslError(
      `SASL ${name} authentication failed: ${where} enables only ${enabled.join(', ') || 'no mechanism'}`,
    );
  const step = async (bytes: Buffer): Promise<Buffer> => {
    const r = await conn.request(SASL_AUTHENTICATE, new WireWriter().bytes(bytes).buffer(), clientId);
    const errorCode = r.int16();
    const message = r.nullableString();
    const answer = r.bytes();
    if (errorCode === ERROR_SASL_AUTHENTICATION_FAILED)
      throw saslError(`SASL ${name} authentication failed: ${message ?? 'invalid credentials'}`);
    if (errorCode !== 0) throw new Error(`SaslAuthenticate error ${errorCode}${message ? ` (${message})` : ''}`);
    return answer;
  };
  if (sasl.mechanism === 'plain') {
    await step(plainMessage(sasl));
    return;
  }
  const scram = new ScramClient({ ...sasl, mechanism: sasl.mechanism });
  const serverFirst = await step(scram.first());
  const serverFinal = await step(scram.final(serverFirst));
  scram.verify(serverFinal);
}

/**
 * One request to `host:port` over a fresh connection (TLS and SASL first when `security` says so);
 * resolves with a reader positioned after the response header (correlation id checked, tags
 * skipped when `flexible`). Rejects on any error or after `timeoutMs` for the whole exchange.
 */
export async function sendRequest(
  host: string,
  port: number,
  api: ApiVersion,
  body: Buffer,
  options: RequestOptions,
): Promise<WireReader> {
  const where = `${host}:${port}`;
  const tls = options.security?.tls;
  const socket: Socket = tls
    ? tlsConnect({ ...tls, host, port, ...(isIP(host) === 0 ? { servername: host } : {}) })
    : createConnection({ host, port });
  const conn = new WireConnection(socket, where);
  const timer = setTimeout(
    () => conn.fail(new Error(`no answer from ${where} within ${options.timeoutMs} ms`)),
    options.timeoutMs,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`${where} closed the connection`)));
    });
    if (options.security?.sasl) await authenticate(conn, options.security.sasl, options.clientId, where);
    return await conn.request(api, body, options.clientId, options.flexible);
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}
