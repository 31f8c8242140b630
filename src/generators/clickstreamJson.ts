/**
 * A clickstream event's JSON written as bytes straight into its record (recordSink.ts): the same
 * bytes as `JSON.stringify` of the event clickstream.ts's `next` would have made, from the indices
 * the generator drew. Every text an event takes is fixed when the generator is built (user ids,
 * URLs, referrers, user agents, checked JSON-safe there): each is encoded once, together with the
 * field names around it, so an event is a handful of copies, a UUID written from its four words and
 * its timestamp (architecture.md, "Data flow").
 */
import { asciiBytes, writeBytes } from './asciiJson.js';
import type { RecordSink } from './recordSink.js';
import { UUID_LENGTH, writeUuidV4 } from './uuidV4.js';

const HEAD = asciiBytes('{"event_id":"');
const USER_ID_NAME = '","user_id":"';
const URL_NAME = '","url":"';
/** Longest timestamp text: toISOString's extended years (`+275760-09-13T00:00:00.000Z`). */
const MAX_TS_BYTES = 32;
/** No piece: a referrer of one piece, or none. */
export const NO_PIECE = -1;

export interface ClickstreamTexts {
  /** Value of `user_id` by user index. */
  userIds: readonly string[];
  /** Value of `url` by page index. */
  urls: readonly string[];
  /** The pieces a referrer is made of (one or two of them). */
  referrerPieces: readonly string[];
  /** Value of `ua` by user agent index. */
  userAgents: readonly string[];
}

export class ClickstreamJson {
  /**
   * Every user's `user_id` with what lies around it, `","user_id":"u-000042","url":"`, back to back in one buffer
   * (user u's from userStart[u] to userStart[u + 1]): tens of thousands of users per thread, a Buffer each was ~5 MB
   * of heap. The record key, the id, lies inside it.
   */
  private readonly users: Buffer;
  private readonly userStart: Int32Array;
  /** `https://…","referrer":"`. */
  private readonly urls: Buffer[];
  private readonly referrerPieces: Buffer[];
  /** `","ua":"Mozilla/5.0 …","ts":"`. */
  private readonly userAgents: Buffer[];
  /** The timestamp and the end, `2026-12-06T07:00:00.000Z"}`: `tsLength` bytes. */
  private readonly ts = new Uint8Array(MAX_TS_BYTES + 2);
  private tsLength = 0;

  constructor(texts: ClickstreamTexts) {
    const parts = texts.userIds.map((id) => `${USER_ID_NAME}${id}${URL_NAME}`);
    this.users = asciiBytes(parts.join(''));
    this.userStart = new Int32Array(parts.length + 1);
    for (let u = 0; u < parts.length; u++) this.userStart[u + 1] = this.userStart[u]! + parts[u]!.length;
    this.urls = texts.urls.map((url) => asciiBytes(`${url}","referrer":"`));
    this.referrerPieces = texts.referrerPieces.map((piece) => asciiBytes(piece));
    this.userAgents = texts.userAgents.map((ua) => asciiBytes(`","ua":"${ua}","ts":"`));
  }

  /** The `ts` of the events written next (ISO, ASCII). */
  setTimestamp(ts: string): void {
    if (ts.length > MAX_TS_BYTES) throw new RangeError(`timestamp ${ts} is longer than ${MAX_TS_BYTES} characters`);
    for (let i = 0; i < ts.length; i++) this.ts[i] = ts.charCodeAt(i);
    this.ts[ts.length] = 0x22; // "
    this.ts[ts.length + 1] = 0x7d; // }
    this.tsLength = ts.length + 2;
  }

  /**
   * Appends the record of the event with these indices (`referrerTail` NO_PIECE for a referrer of one piece,
   * `referrerHead` NO_PIECE too for none) and the UUID of these words, keyed by its user id.
   */
  write(
    sink: RecordSink,
    user: number,
    page: number,
    referrerHead: number,
    referrerTail: number,
    userAgent: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
  ): void {
    const users = this.users;
    const userFrom = this.userStart[user]!;
    const userTo = this.userStart[user + 1]!;
    const urlPart = this.urls[page]!;
    const head = referrerHead === NO_PIECE ? undefined : this.referrerPieces[referrerHead]!;
    const tail = referrerTail === NO_PIECE ? undefined : this.referrerPieces[referrerTail]!;
    const uaPart = this.userAgents[userAgent]!;
    const length =
      HEAD.length +
      UUID_LENGTH +
      (userTo - userFrom) +
      urlPart.length +
      (head?.length ?? 0) +
      (tail?.length ?? 0) +
      uaPart.length +
      this.tsLength;
    // Keyed by the user id, between the field names around it.
    let p = sink.reserve(users, userFrom + USER_ID_NAME.length, userTo - URL_NAME.length, length);
    const buf = sink.valueBuffer;
    p = writeBytes(buf, p, HEAD);
    p = writeUuidV4(buf, p, w0, w1, w2, w3);
    for (let i = userFrom; i < userTo; i++) buf[p++] = users[i]!;
    p = writeBytes(buf, p, urlPart);
    if (head !== undefined) p = writeBytes(buf, p, head);
    if (tail !== undefined) p = writeBytes(buf, p, tail);
    p = writeBytes(buf, p, uaPart);
    const ts = this.ts;
    for (let i = 0; i < this.tsLength; i++) buf[p++] = ts[i]!;
  }
}
