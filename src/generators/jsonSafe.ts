/**
 * The generators write their events' JSON from a template instead of JSON.stringify, whose escaping
 * pass over every string was most of a producer thread's time at an unlimited rate (architecture.md,
 * "Data flow"). That gives the same text only for strings that need no escaping: each generator
 * checks its fixed strings with this once, when built, and makes the others (ids, timestamps) from
 * characters that never need it.
 */

/** Whether JSON writes `text` as it is, between quotes. */
export function isJsonSafe(text: string): boolean {
  return JSON.stringify(text).length === text.length + 2;
}

/** Throws when a string in `texts` would need escaping in JSON. */
export function assertJsonSafe(texts: Iterable<string>, what: string): void {
  for (const text of texts) {
    if (!isJsonSafe(text)) throw new RangeError(`${what} ${JSON.stringify(text)} needs escaping in JSON`);
  }
}
