/**
 * Where a generator writes its events straight into as records (kafka/recordsBuilder.ts implements
 * it): the generator knows each event's key and the exact byte length of its JSON before writing
 * it, so the record's header is written once and the JSON goes in its place, with no string, object
 * or copy per event (architecture.md, "Data flow").
 */
export interface RecordSink {
  /**
   * Appends a record whose key is the bytes key[keyStart, keyEnd) (read at once: they may lie in a larger table) and
   * whose value is exactly `valueBytes` bytes, which the caller writes at the returned offset of `valueBuffer` before
   * calling again.
   */
  reserve(key: Uint8Array, keyStart: number, keyEnd: number, valueBytes: number): number;
  /** The buffer of the last `reserve`'s record. */
  readonly valueBuffer: Buffer;
}

/** Appends a record whose value is this text (UTF-8): the way for an event the byte writers do not take. */
export function writeTextRecord(sink: RecordSink, key: Uint8Array, text: string): void {
  const at = sink.reserve(key, 0, key.length, Buffer.byteLength(text, 'utf8'));
  sink.valueBuffer.write(text, at, 'utf8');
}
