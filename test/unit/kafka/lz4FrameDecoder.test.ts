import { randomBytes } from 'node:crypto';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { describe, expect, it } from 'vitest';
import { decompressLz4 } from '../../../src/kafka/lz4Codec.js';
import { decompressLz4Frame, Lz4FrameError } from '../../../src/kafka/lz4FrameDecoder.js';

/** JSON lines like the topics hold: long repeats, short matches, overlapping runs. */
function events(count: number, seed: number): Buffer {
  let state = seed;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(
      JSON.stringify({
        event_id: `e-${seed}-${i}`,
        url: `https://shop.example.com/p/${Math.floor(next() * 1e5)}`,
        pad: 'a'.repeat(Math.floor(next() * 300)),
        n: next(),
      }),
    );
  }
  return Buffer.from(lines.join('\n'));
}

describe('decompressLz4Frame', () => {
  const payloads: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('x')],
    ['json events', events(500, 1)],
    ['several 64 KB blocks', events(5000, 2)],
    ['incompressible (stored blocks)', randomBytes(300 * 1024)],
    ['a long run (overlapping matches)', Buffer.alloc(200_000, 7)],
    ['mixed', Buffer.concat([events(100, 3), randomBytes(70_000), Buffer.alloc(5000, 1), events(100, 4)])],
  ];
  for (const [name, payload] of payloads) {
    for (const options of [undefined, { blockChecksums: true, contentChecksum: true }]) {
      it(`gives what lz4-napi gives: ${name}${options ? ', with checksums' : ''}`, () => {
        const frame = compressFrameSync(payload, options);
        const decoded = decompressLz4Frame(frame);
        expect(decoded.equals(payload)).toBe(true);
        expect(decoded.equals(decompressFrameSync(frame))).toBe(true);
      });
    }
  }

  it('decodes concatenated frames as one stream', () => {
    const a = events(50, 5);
    const b = randomBytes(1000);
    expect(
      decompressLz4Frame(Buffer.concat([compressFrameSync(a), compressFrameSync(b)])).equals(Buffer.concat([a, b])),
    ).toBe(true);
  });

  it('decodes a frame with a content size (a descriptor field other writers set)', () => {
    const payload = events(2000, 6);
    const frame = compressFrameSync(payload);
    // Rewrite the descriptor: content-size flag and its 8 bytes. The header checksum is not verified.
    const flags = frame[4]! | 0x08;
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(payload.length));
    const rewritten = Buffer.concat([frame.subarray(0, 4), Buffer.from([flags, frame[5]!]), size, frame.subarray(6)]);
    expect(decompressLz4Frame(rewritten).equals(payload)).toBe(true);
  });

  it('refuses a block that decodes to more than the descriptor allows', () => {
    const payload = events(2000, 9); // lz4-napi writes it as one 4 MB-class block of ~490 KB
    const frame = compressFrameSync(payload);
    const capped = Buffer.concat([frame.subarray(0, 5), Buffer.from([0x40]), frame.subarray(6)]); // 64 KB blocks
    expect(() => decompressLz4Frame(capped)).toThrow(Lz4FrameError);
  });

  it('throws Lz4FrameError, never loops or reads out of bounds, on malformed input', () => {
    const frame = compressFrameSync(events(300, 7));
    expect(() => decompressLz4Frame(Buffer.from('not lz4 at all'))).toThrow(Lz4FrameError);
    for (let cut = 1; cut < frame.length; cut += 97) {
      expect(() => decompressLz4Frame(frame.subarray(0, cut)), `cut at ${cut}`).toThrow(Lz4FrameError);
    }
    // A block whose first match points before the start of the output.
    const bad = Buffer.from(frame);
    const blockStart = 7 + 4;
    bad[blockStart] = 0x0f; // no literals, then a match
    bad[blockStart + 1] = 0xff;
    bad[blockStart + 2] = 0xff;
    expect(() => decompressLz4Frame(bad)).toThrow(Lz4FrameError);
  });

  it('is what the codec uses, with lz4-napi for frames it does not take', () => {
    const payload = events(100, 8);
    expect(decompressLz4(compressFrameSync(payload)).equals(payload)).toBe(true);
    // A dictionary id: refused by the JS decoder, so lz4-napi decides (and rejects it too).
    const frame = compressFrameSync(payload);
    const withDict = Buffer.concat([
      frame.subarray(0, 4),
      Buffer.from([frame[4]! | 0x01]),
      frame.subarray(5, 6),
      Buffer.alloc(4),
      frame.subarray(6),
    ]);
    expect(() => decompressLz4Frame(withDict)).toThrow(Lz4FrameError);
    expect(() => decompressLz4(withDict)).toThrow();
  });
});
