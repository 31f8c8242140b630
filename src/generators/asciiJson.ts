/**
 * The pieces of the generators' JSON as ASCII bytes, written straight into a record
 * (recordSink.ts): text fixed when a generator is built is encoded once, numbers are written digit
 * by digit. The same bytes as JSON.stringify for what each function takes (jsonSafe.ts).
 */

/** The bytes of an ASCII text; throws for any other character (its UTF-8 would differ). */
export function asciiBytes(text: string): Buffer {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) throw new RangeError(`not ASCII: ${JSON.stringify(text)}`);
  }
  return Buffer.from(text, 'latin1');
}

/** Copies `bytes` to `at`; returns the offset after them. */
export function writeBytes(buf: Uint8Array, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  // A call to set costs about as much as copying 16 bytes one by one (measured: a clickstream event's ~8 pieces).
  if (n > 16) buf.set(bytes, at);
  else for (let i = 0; i < n; i++) buf[at + i] = bytes[i]!;
  return at + n;
}

/** Below this, an integer scaled by 10^decimals has at most 15 digits: its double prints as those digits. */
const MAX_SCALED = 1e15;
const CHAR_0 = 48;
const MINUS = 0x2d;
const DOT = 0x2e;
/** 10^i, exact up to 10^15. */
const POW10 = Float64Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Whether `writeScaled` takes `scaled`: an integer under 10^15 in magnitude. Then `scaled / 10^decimals`
 * is the double nearest to that decimal, and JSON (the shortest text that reads back as the same double)
 * writes it as that decimal with its trailing zeros dropped.
 */
export function isWritableScaled(scaled: number): boolean {
  return Number.isInteger(scaled) && scaled > -MAX_SCALED && scaled < MAX_SCALED;
}

/**
 * Writes JSON's text of `scaled / 10^decimals` (`isWritableScaled(scaled)`, decimals 0 to 6) into `buf` at
 * `at`, as `JSON.stringify(Math.round(x * 10 ** decimals) / 10 ** decimals)` writes it for scaled =
 * Math.round(x * 10 ** decimals): `-0.05`, `21.4`, `0`; returns the offset after it.
 */
export function writeScaled(buf: Uint8Array, at: number, scaled: number, decimals: number): number {
  // -0 too: JSON writes 0.
  if (scaled === 0) {
    buf[at] = CHAR_0;
    return at + 1;
  }
  let p = at;
  let n = scaled;
  if (n < 0) {
    buf[p++] = MINUS;
    n = -n;
  }
  // Readings fit 31 bits: integer division there, a double's `%` being a call to fmod.
  return n <= 0x7fffffff ? writeDigits31(buf, p, n | 0, decimals) : writeDigits(buf, p, n, decimals);
}

/** `writeDigits` for n < 2^31, in 32-bit integer arithmetic. */
function writeDigits31(buf: Uint8Array, at: number, positive: number, decimals: number): number {
  let n = positive | 0;
  let fraction = decimals;
  while (fraction > 0 && n % 10 === 0) {
    n = (n / 10) | 0;
    fraction--;
  }
  let digits = 1;
  while (digits < 10 && n >= POW10[digits]!) digits++;
  // The digits with a dot `fraction` from their end, or `0.` and zeros before them when all are fraction.
  const allFraction = fraction >= digits;
  const end = at + (allFraction ? fraction + 2 : fraction > 0 ? digits + 1 : digits);
  let q = end;
  for (let i = 0; i < digits; i++) {
    if (i === fraction && fraction > 0) buf[--q] = DOT;
    const rest = (n / 10) | 0;
    buf[--q] = CHAR_0 + n - rest * 10;
    n = rest;
  }
  if (allFraction) {
    for (let i = digits; i < fraction; i++) buf[--q] = CHAR_0;
    buf[--q] = DOT;
    buf[--q] = CHAR_0;
  }
  return end;
}

/** The digits of the positive integer n < 10^15 with a dot `decimals` from their end, trailing zeros of the fraction dropped. */
function writeDigits(buf: Uint8Array, at: number, positive: number, decimals: number): number {
  let n = positive;
  let fraction = decimals;
  while (fraction > 0 && n % 10 === 0) {
    n /= 10;
    fraction--;
  }
  let digits = 1;
  while (digits < 16 && n >= POW10[digits]!) digits++;
  const allFraction = fraction >= digits;
  const end = at + (allFraction ? fraction + 2 : fraction > 0 ? digits + 1 : digits);
  let q = end;
  for (let i = 0; i < digits; i++) {
    if (i === fraction && fraction > 0) buf[--q] = DOT;
    const rest = Math.floor(n / 10);
    buf[--q] = CHAR_0 + n - rest * 10;
    n = rest;
  }
  if (allFraction) {
    for (let i = digits; i < fraction; i++) buf[--q] = CHAR_0;
    buf[--q] = DOT;
    buf[--q] = CHAR_0;
  }
  return end;
}
