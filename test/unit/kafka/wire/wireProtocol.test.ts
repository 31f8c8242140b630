import { createServer, type AddressInfo, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { sendRequest } from '../../../../src/kafka/wire/wireProtocol.js';

/** A server answering one request with `body`, the answer cut into the given pieces (sizes; the last takes the rest). */
function answering(body: Buffer, pieces: number[]): Promise<Server> {
  const server = createServer((socket) => {
    socket.once('data', async (request) => {
      // Request: size, api key, api version, correlation id, ...; the answer: size, correlation id, body.
      const correlationId = request.readInt32BE(8);
      const answer = Buffer.alloc(8 + body.length);
      answer.writeInt32BE(4 + body.length, 0);
      answer.writeInt32BE(correlationId, 4);
      body.copy(answer, 8);
      let at = 0;
      for (const n of pieces) {
        socket.write(answer.subarray(at, at + n));
        at += n;
        await sleep(5);
      }
      socket.write(answer.subarray(at));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('sendRequest', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('puts an answer back together from pieces, its size field cut in two', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    server = await answering(body, [2, 3, 1, 1000, 65_536, 65_536]);
    const { port } = server.address() as AddressInfo;
    const reader = await sendRequest('127.0.0.1', port, { key: 18, version: 0 }, Buffer.alloc(0), {
      timeoutMs: 10_000,
      clientId: 'wire-test',
    });
    expect(reader.rest().equals(body)).toBe(true);
  });
});
