/**
 * LZ4 frame decompression in JavaScript, for the record batches the ETL reads.
 *
 * Why not lz4-napi's `decompressFrameSync` (lz4_flex): measured here, its process RSS grows by
 * about the size of everything it decompressed and never comes back (8 M records, 1 GB after 40
 * rounds of the same 26 MB, V8's external memory flat), and its output allocations fault fresh
 * pages in: 300 MB/s after the first round. This decodes into one scratch buffer that is kept and
 * copies the result into a V8-owned Buffer of the exact size.
 *
 * Frame format (lz4.org, lz4_Frame_format.md): magic, descriptor (flags, block max size, optional
 * content size and dictionary id, header checksum), blocks (size word with an "uncompressed" bit,
 * data, optional checksum), end mark, optional content checksum. Checksums are not verified (Kafka's
 * record batches carry their own CRC, which kafkajs does not check either). Anything it cannot
 * decode (another magic, a dictionary id, a malformed block) throws `Lz4FrameError`; the caller
 * then uses lz4-napi.
 */

export class Lz4FrameError extends Error {}

const MAGIC = 0x184d2204;
const FLAG_BLOCK_CHECKSUM = 0x10;
const FLAG_CONTENT_SIZE = 0x08;
const FLAG_CONTENT_CHECKSUM = 0x04;
const FLAG_DICT_ID = 0x01;
const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

let scratch = new Uint8Array(1024 * 1024);

function ensure(capacity: number): void {
  if (scratch.length >= capacity) return;
  const grown = new Uint8Array(Math.max(capacity, scratch.length * 2));
  grown.set(scratch);
  scratch = grown;
}

/** Decodes one LZ4 block `src[ip, end)` into `scratch` at `op`; returns the new output position. */
function decodeBlock(src: Uint8Array, ip: number, end: number, op: number, limit: number): number {
  const out = scratch;
  while (ip < end) {
    const token = src[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        b = src[ip++]!;
        literals += b;
      } while (b === 255 && ip < end);
    }
    if (ip + literals > end || op + literals > limit) throw new Lz4FrameError('lz4 block: literals beyond the block');
    if (literals < 32) {
      for (let i = 0; i < literals; i++) out[op + i] = src[ip + i]!;
    } else {
      out.set(src.subarray(ip, ip + literals), op);
    }
    ip += literals;
    op += literals;
    if (ip >= end) break; // the last sequence has literals only
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        b = src[ip++]!;
        length += b;
      } while (b === 255 && ip < end);
    }
    length += 4;
    let from = op - offset;
    if (offset === 0 || from < 0 || op + length > limit) throw new Lz4FrameError('lz4 block: match outside the output');
    if (offset >= length && length >= 32) {
      out.copyWithin(op, from, from + length);
      op += length;
    } else {
      // Overlapping (a run) or short: byte by byte, as the format defines it.
      const stop = op + length;
      while (op < stop) out[op++] = out[from++]!;
    }
  }
  return op;
}

/** The decompressed content of the LZ4 frame(s) in `src`. */
export function decompressLz4Frame(src: Buffer): Buffer {
  let ip = 0;
  let op = 0;
  while (ip < src.length) {
    if (src.length - ip < 7 || src.readUInt32LE(ip) !== MAGIC) throw new Lz4FrameError('not an LZ4 frame');
    const flags = src[ip + 4]!;
    const blockMax = BLOCK_MAX[(src[ip + 5]! >> 4) & 7]!;
    if ((flags & 0xc0) !== 0x40 || blockMax === 0) throw new Lz4FrameError('unsupported LZ4 frame descriptor');
    if (flags & FLAG_DICT_ID) throw new Lz4FrameError('LZ4 frames with a dictionary are not supported');
    ip += 6 + (flags & FLAG_CONTENT_SIZE ? 8 : 0) + 1; // descriptor, content size, header checksum
    const blockChecksum = flags & FLAG_BLOCK_CHECKSUM ? 4 : 0;
    for (;;) {
      if (ip + 4 > src.length) throw new Lz4FrameError('LZ4 frame cut short');
      const word = src.readUInt32LE(ip);
      ip += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (size > blockMax || ip + size + blockChecksum > src.length)
        throw new Lz4FrameError('LZ4 block beyond the frame');
      ensure(op + blockMax);
      if (word & 0x80000000) {
        scratch.set(src.subarray(ip, ip + size), op);
        op += size;
      } else {
        op = decodeBlock(src, ip, ip + size, op, op + blockMax);
      }
      ip += size + blockChecksum;
    }
    if (flags & FLAG_CONTENT_CHECKSUM) ip += 4;
    if (ip > src.length) throw new Lz4FrameError('LZ4 frame cut short');
  }
  const result = Buffer.allocUnsafe(op);
  result.set(scratch.subarray(0, op));
  return result;
}
