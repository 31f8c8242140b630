/**
 * A drop-in for kafkajs 2.2.4's protocol/request.js, which frames every request: its size, API key
 * and version, correlation id and client id, then the request's own encoding. kafkajs does it with
 * two Encoders, each a zero-filled buffer of the next power of two and a copy of the whole request:
 * for a Produce request of a few MB, two allocations that V8 counts as external memory (collections
 * sooner) and two copies, about 5 % of a producer thread's time (architecture.md, "Data flow").
 * This writes the same bytes into one buffer of the exact size and, when the request's encoding
 * left room in front of it (`withFrameRoom`, as patches/recordBatchEncoder.ts does for Produce),
 * into that room: no copy at all.
 *
 * patches/produceFastPaths.ts installs `frameRequest` in place of kafkajs's module (producer threads only).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const KAFKAJS_REQUEST_PATH = 'kafkajs/src/protocol/request.js';

/** Bytes left in front of an encoding for its frame: size, key, version, correlation id and a client id this long. */
export const FRAME_ROOM_BYTES = 4 + 2 + 2 + 4 + 2 + 242;

const FRAME_ROOM = Symbol('frame room');

/** What kafkajs's connection reads of a framed request, and its Encoder's fields that request.js reads. */
export interface EncodedRequest {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  size(): number;
  /** The buffer this encoding lies in, FRAME_ROOM_BYTES after its start: set by `withFrameRoom`. */
  [FRAME_ROOM]?: Buffer;
}

interface RequestArgs {
  correlationId: number;
  clientId: string | null | undefined;
  request: { apiKey: number; apiVersion: number; encode(): Promise<EncodedRequest> | EncodedRequest };
}

type EncoderClass = new (initialSize?: number) => EncodedRequest;
let encoderClass: EncoderClass | undefined;

/** kafkajs's Encoder holding `buf` as what it wrote: what its request.js returns and its connection sends. */
export function encoderOf(buf: Buffer): EncodedRequest {
  encoderClass ??= require('kafkajs/src/protocol/encoder.js') as EncoderClass;
  const encoder = new encoderClass(0);
  encoder.buf = buf;
  encoder.offset = buf.length;
  return encoder;
}

/** A buffer for an encoding of `bytes`, FRAME_ROOM_BYTES of room in front of it: pass it to `withFrameRoom`. */
export function allocateWithFrameRoom(bytes: number): Buffer {
  return Buffer.allocUnsafe(FRAME_ROOM_BYTES + bytes);
}

/** The encoding written at FRAME_ROOM_BYTES of `room` (from `allocateWithFrameRoom`), for kafkajs or `frameRequest`. */
export function withFrameRoom(room: Buffer): EncodedRequest {
  const encoder = encoderOf(room.subarray(FRAME_ROOM_BYTES));
  encoder[FRAME_ROOM] = room;
  return encoder;
}

/** Same bytes as kafkajs's request.js: Int32 size, Int16 key, Int16 version, Int32 correlation id, String client id. */
export async function frameRequest({ correlationId, clientId, request }: RequestArgs): Promise<EncodedRequest> {
  const payload = await request.encode();
  const body = payload.buffer;
  const clientIdBytes = clientId === null || clientId === undefined ? -1 : Buffer.byteLength(clientId, 'utf8');
  const headerBytes = 4 + 2 + 2 + 4 + 2 + Math.max(0, clientIdBytes);
  const room = payload[FRAME_ROOM];
  // In the room in front of the encoding when it is there and large enough, else a buffer of the exact size.
  const inRoom =
    room !== undefined && headerBytes <= FRAME_ROOM_BYTES && body.length === room.length - FRAME_ROOM_BYTES;
  const buf = inRoom ? room.subarray(FRAME_ROOM_BYTES - headerBytes) : Buffer.allocUnsafe(headerBytes + body.length);
  let p = buf.writeInt32BE(headerBytes - 4 + body.length, 0);
  p = buf.writeInt16BE(request.apiKey, p);
  p = buf.writeInt16BE(request.apiVersion, p);
  p = buf.writeInt32BE(correlationId, p);
  p = buf.writeInt16BE(clientIdBytes, p);
  if (clientIdBytes > 0) p += buf.write(clientId!, p, 'utf8');
  if (!inRoom) body.copy(buf, p);
  return encoderOf(buf);
}
