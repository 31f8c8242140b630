import './patches/consumerFixes.js'; // before kafkajs loads
import kafkajs from 'kafkajs';
import { compressFrame, decompressFrameSync } from 'lz4-napi';
import { decompressLz4Frame, Lz4FrameError } from './lz4FrameDecoder.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/** The first four bytes of every LZ4 frame (0x184D2204, little-endian). */
export const LZ4_FRAME_MAGIC = Buffer.from([0x04, 0x22, 0x4d, 0x18]);

/**
 * Kafka's LZ4 codec is the LZ4 *frame* format; lz4-napi's block functions (compress/uncompress)
 * produce data no other Kafka client can read.
 */
export const lz4FrameCodec = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return compressFrame(encoder.buffer);
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    // On the calling thread: a 1 MB fetch decompresses in about 2 ms, and the async variant's
    // libuv-pool threads each grow a malloc arena that the process keeps as RSS.
    return decompressLz4(buffer);
  },
  /** The same, without a promise per record batch: fetchRecordDecoder.ts calls it when present. */
  decompressSync(buffer: Buffer): Buffer {
    return decompressLz4(buffer);
  },
};

/**
 * In JavaScript (lz4FrameDecoder.ts: lz4-napi's decompression keeps what it allocated as RSS and
 * slows down as it faults pages in); lz4-napi for the frames that decoder does not take.
 */
export function decompressLz4(buffer: Buffer): Buffer {
  try {
    return decompressLz4Frame(buffer);
  } catch (err) {
    if (err instanceof Lz4FrameError) return decompressFrameSync(buffer);
    throw err;
  }
}

let registered = false;

/** Registers LZ4 with kafkajs; must run before any producer or consumer is created. */
export function registerLz4Codec(): void {
  if (registered) return;
  (CompressionCodecs as Record<number, () => typeof lz4FrameCodec>)[CompressionTypes.LZ4] = () => lz4FrameCodec;
  registered = true;
}
