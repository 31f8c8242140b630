/**
 * The few Kafka wire-protocol pieces the project speaks without kafkajs (which lacks the requests
 * it needs: a Metadata request to one chosen broker, DescribeTransactions): big-endian writers and
 * readers, and one request over a fresh plaintext connection. Plaintext only; callers fall back to
 * kafkajs, or to "unknown", when TLS or SASL is configured.
 */
import { createConnection } from 'node:net';

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

  compactString(): string {
    const length = Math.max(0, this.uvarint() - 1);
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
      this.uvarint();
      this.offset += this.uvarint();
    }
  }
}

/** A request frame: size, header (v1, or v2 with empty tags when `flexible`), body. */
export function encodeRequest(api: ApiVersion, correlationId: number, clientId: string, body: Buffer, flexible = false): Buffer {
  const header = new WireWriter().int16(api.key).int16(api.version).int32(correlationId).string(clientId);
  if (flexible) header.uvarint(0);
  const payload = Buffer.concat([header.buffer(), body]);
  return Buffer.concat([new WireWriter().int32(payload.length).buffer(), payload]);
}

/**
 * One request to `host:port` over a fresh connection; resolves with a reader positioned after the
 * response header (correlation id checked, tags skipped when `flexible`). Rejects on any error or
 * after `timeoutMs`.
 */
export function sendRequest(host: string, port: number, api: ApiVersion, body: Buffer, options: { timeoutMs: number; clientId: string; flexible?: boolean }): Promise<WireReader> {
  const correlationId = Math.floor(Math.random() * 0x7fffffff);
  const frame = encodeRequest(api, correlationId, options.clientId, body, options.flexible);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let received = Buffer.alloc(0);
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(options.timeoutMs, () => fail(new Error(`no answer from ${host}:${port} within ${options.timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      socket.destroy();
      const reader = new WireReader(received.subarray(4, 4 + size));
      const answeredId = reader.int32();
      if (answeredId !== correlationId) return reject(new Error(`answer from ${host}:${port} has correlation id ${answeredId}, expected ${correlationId}`));
      if (options.flexible) reader.skipTags();
      resolve(reader);
    });
  });
}
