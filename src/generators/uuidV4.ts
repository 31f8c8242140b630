/**
 * The text of an RFC 4122 version 4 UUID made from four random 32-bit words (Random.uuid), as a
 * string or written as ASCII bytes straight into a record (recordSink.ts): the same 36 characters.
 */

/** Characters of a UUID's text. */
export const UUID_LENGTH = 36;

/** Lower-case hex of every byte, so a UUID is 16 lookups instead of 16 `toString(16)` calls. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
/** The same as ASCII codes: byte b's two characters at 2b and 2b + 1. */
const HEX_CODES = Uint8Array.from(HEX.join(''), (c) => c.charCodeAt(0));
const DASH = 0x2d;

/** Byte 6's high nibble says version 4. */
function versionByte(w1: number): number {
  return ((w1 >>> 8) & 0x0f) | 0x40;
}

/** Byte 8's high bits say variant 10xx. */
function variantByte(w2: number): number {
  return ((w2 >>> 24) & 0x3f) | 0x80;
}

/** The UUID of these words, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. */
export function uuidV4(w0: number, w1: number, w2: number, w3: number): string {
  return (
    HEX[w0 >>> 24]! +
    HEX[(w0 >>> 16) & 0xff]! +
    HEX[(w0 >>> 8) & 0xff]! +
    HEX[w0 & 0xff]! +
    '-' +
    HEX[w1 >>> 24]! +
    HEX[(w1 >>> 16) & 0xff]! +
    '-' +
    HEX[versionByte(w1)]! +
    HEX[w1 & 0xff]! +
    '-' +
    HEX[variantByte(w2)]! +
    HEX[(w2 >>> 16) & 0xff]! +
    '-' +
    HEX[(w2 >>> 8) & 0xff]! +
    HEX[w2 & 0xff]! +
    HEX[w3 >>> 24]! +
    HEX[(w3 >>> 16) & 0xff]! +
    HEX[(w3 >>> 8) & 0xff]! +
    HEX[w3 & 0xff]!
  );
}

function writeHexByte(buf: Uint8Array, at: number, byte: number): number {
  buf[at] = HEX_CODES[2 * byte]!;
  buf[at + 1] = HEX_CODES[2 * byte + 1]!;
  return at + 2;
}

/** Writes `uuidV4(w0, w1, w2, w3)` as ASCII at `at`; returns the offset after it. */
export function writeUuidV4(buf: Uint8Array, at: number, w0: number, w1: number, w2: number, w3: number): number {
  let p = writeHexByte(buf, at, w0 >>> 24);
  p = writeHexByte(buf, p, (w0 >>> 16) & 0xff);
  p = writeHexByte(buf, p, (w0 >>> 8) & 0xff);
  p = writeHexByte(buf, p, w0 & 0xff);
  buf[p++] = DASH;
  p = writeHexByte(buf, p, w1 >>> 24);
  p = writeHexByte(buf, p, (w1 >>> 16) & 0xff);
  buf[p++] = DASH;
  p = writeHexByte(buf, p, versionByte(w1));
  p = writeHexByte(buf, p, w1 & 0xff);
  buf[p++] = DASH;
  p = writeHexByte(buf, p, variantByte(w2));
  p = writeHexByte(buf, p, (w2 >>> 16) & 0xff);
  buf[p++] = DASH;
  p = writeHexByte(buf, p, (w2 >>> 8) & 0xff);
  p = writeHexByte(buf, p, w2 & 0xff);
  p = writeHexByte(buf, p, w3 >>> 24);
  p = writeHexByte(buf, p, (w3 >>> 16) & 0xff);
  p = writeHexByte(buf, p, (w3 >>> 8) & 0xff);
  return writeHexByte(buf, p, w3 & 0xff);
}
