/**
 * Byte-level pieces of the ETL's fast decode path: the two event schemas arrive as
 * `JSON.stringify` output with a fixed key order and ASCII text, so the decoder matches that shape
 * directly on the record's bytes instead of `toString` + `JSON.parse` + a generic object.
 *
 * Every function here either recognises exactly what `JSON.parse` would read the same way, or
 * answers "not this shape" (-1 / NaN), and the caller then runs the reference decoder, so a value
 * the fast path cannot read is judged exactly as before (architecture.md, "Bad input").
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The ASCII bytes of `text` (keys and punctuation of the expected shape). */
export function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Whether `lit` sits at `pos` in `buf`. */
export function matchAt(buf: Uint8Array, pos: number, lit: Uint8Array): boolean {
  if (pos + lit.length > buf.length) return false;
  for (let i = 0; i < lit.length; i++) if (buf[pos + i] !== lit[i]) return false;
  return true;
}

/**
 * The index of the closing quote of a JSON string whose content starts at `pos`, or -1 when the
 * content has an escape, a control character or a non-ASCII byte (left to the reference path).
 * For the content accepted, the JSON string value is the bytes themselves, read as Latin-1/ASCII.
 */
export function asciiStringEnd(buf: Uint8Array, pos: number): number {
  const n = buf.length;
  for (let i = pos; i < n; i++) {
    const b = buf[i]!;
    if (b === QUOTE) return i;
    if (b < 0x20 || b >= 0x80 || b === BACKSLASH) return -1;
  }
  return -1;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** Where the number read by the last `readNumber` ended (one past its last byte). */
export let numberEnd = 0;

/**
 * A JSON number at `pos` of the form `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with at most 15 significant
 * digits in all, or NaN (exponents, longer numbers, anything else: left to the reference path).
 * With at most 15 digits the mantissa is an exact double and so is 10^k (k ≤ 15), and IEEE
 * division rounds correctly, so the value is bit-for-bit what `JSON.parse` returns (-0 included).
 * It reads the longest such prefix: the caller must check the bytes from `numberEnd` on (`01`
 * reads as 0 ending before the `1`, which no expected literal starts with).
 */
export function readNumber(buf: Uint8Array, pos: number): number {
  const n = buf.length;
  let i = pos;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  const first = buf[i];
  if (first === 0x30) {
    i++;
  } else if (first !== undefined && first >= 0x31 && first <= 0x39) {
    while (i < n) {
      const b = buf[i]!;
      if (b < 0x30 || b > 0x39) break;
      mantissa = mantissa * 10 + (b - 0x30);
      digits++;
      i++;
    }
  } else {
    return Number.NaN;
  }
  let scale = 0;
  if (buf[i] === 0x2e) {
    i++;
    const start = i;
    while (i < n) {
      const b = buf[i]!;
      if (b < 0x30 || b > 0x39) break;
      mantissa = mantissa * 10 + (b - 0x30);
      digits++;
      i++;
    }
    scale = i - start;
    if (scale === 0) return Number.NaN;
  }
  const next = buf[i];
  if (next === 0x65 || next === 0x45 || digits > 15 || scale > 15) return Number.NaN;
  numberEnd = i;
  const value = scale === 0 ? mantissa : mantissa / POW10[scale]!;
  return negative ? -value : value;
}

/** `buf[start, end)` as a string, for bytes known to be ASCII (then Latin-1 equals UTF-8, and is faster). */
export function asciiText(buf: Buffer, start: number, end: number): string {
  return (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);
}
