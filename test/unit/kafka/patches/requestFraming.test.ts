// Never installs the fast paths: kafkajs's own request.js is what this file's require gives.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  allocateWithFrameRoom,
  type EncodedRequest,
  encoderOf,
  FRAME_ROOM_BYTES,
  frameRequest,
  withFrameRoom,
} from '../../../../src/kafka/patches/requestFraming.js';

const require = createRequire(import.meta.url);
type Framer = typeof frameRequest;
const kafkajsFrame = require('kafkajs/src/protocol/request.js') as Framer;

/** A request whose encoding is these bytes, in kafkajs's Encoder or written in the room `withFrameRoom` leaves. */
function requestOf(
  body: Buffer,
  kind: 'encoder' | 'room',
): { apiKey: number; apiVersion: number; encode(): Promise<EncodedRequest> } {
  return {
    apiKey: 0,
    apiVersion: 7,
    encode: async () => {
      if (kind === 'encoder') return encoderOf(Buffer.from(body));
      const room = allocateWithFrameRoom(body.length);
      body.copy(room, FRAME_ROOM_BYTES);
      return withFrameRoom(room);
    },
  };
}

describe('frameRequest', () => {
  const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff));

  it.each([
    ['a client id', 'sdp-producer-3'],
    ['a UTF-8 client id', 'prodücteur-😀'],
    ['an empty client id', ''],
    ['no client id', null],
    ['a client id longer than the room', 'c'.repeat(FRAME_ROOM_BYTES)],
  ])(
    'frames a request with the bytes of kafkajs, from its Encoder or in the room left for it (%s)',
    async (_n, clientId) => {
      for (const kind of ['encoder', 'room'] as const) {
        const args = { correlationId: 123_456, clientId, request: requestOf(body, kind) };
        const ours = (await frameRequest(args)).buffer;
        const theirs = (await kafkajsFrame(args)).buffer;
        expect(ours.equals(theirs)).toBe(true);
      }
    },
  );

  it('writes the frame into the room in front of the encoding: the request is not copied', async () => {
    let room: Buffer | undefined;
    const request = {
      apiKey: 0,
      apiVersion: 7,
      encode: async () => {
        room = allocateWithFrameRoom(body.length);
        body.copy(room, FRAME_ROOM_BYTES);
        return withFrameRoom(room);
      },
    };
    const framed = (await frameRequest({ correlationId: 1, clientId: 'sdp', request })).buffer;
    expect(framed.buffer).toBe(room!.buffer);
    expect(framed.byteOffset + framed.length).toBe(room!.byteOffset + room!.length);
  });
});
