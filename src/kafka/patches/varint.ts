/**
 * The zig-zag varints of Kafka's v2 records (record lengths, deltas, key and value lengths), for
 * values within ±2^30: what the record encoders here write, kafkajs's `Encoder.writeVarInt` bytes.
 */

function zigZag(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

/** Bytes of `value` as a zig-zag varint. */
export function varIntSize(value: number): number {
  let z = zigZag(value);
  let bytes = 1;
  while (z >= 0x80) {
    bytes++;
    z >>>= 7;
  }
  return bytes;
}

/** Writes `value` at `offset`; returns the offset after it. */
export function writeVarInt(buf: Uint8Array, offset: number, value: number): number {
  let z = zigZag(value);
  while (z >= 0x80) {
    buf[offset++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[offset++] = z;
  return offset;
}

/** Reads the zig-zag varint at `offset`: its value and the offset after it. */
export function readVarInt(buf: Uint8Array, offset: number): { value: number; next: number } {
  let z = 0;
  let shift = 0;
  for (;;) {
    if (offset >= buf.length || shift > 28) throw new RangeError(`bad varint at ${offset}`);
    const byte = buf[offset++]!;
    z |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
    shift += 7;
  }
  z >>>= 0;
  return { value: (z >>> 1) ^ -(z & 1), next: offset };
}
