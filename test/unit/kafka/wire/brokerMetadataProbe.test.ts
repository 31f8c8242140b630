import { describe, expect, it } from 'vitest';
import { decodeMetadataResponse, encodeMetadataRequest } from '../../../../src/kafka/wire/brokerMetadataProbe.js';

/** Big-endian writer for building a broker's answer by hand. */
class Writer {
  private parts: Buffer[] = [];
  int8(v: number) {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    this.parts.push(b);
    return this;
  }
  int16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  string(v: string | null) {
    if (v === null) return this.int16(-1);
    this.int16(Buffer.byteLength(v));
    this.parts.push(Buffer.from(v));
    return this;
  }
  int32s(values: number[]) {
    this.int32(values.length);
    for (const v of values) this.int32(v);
    return this;
  }
  build() {
    return Buffer.concat(this.parts);
  }
}

describe('Metadata v4 request and response', () => {
  it('frames the request: size, api key 3 version 4, correlation id, client id, topics, no auto-creation', () => {
    const frame = encodeMetadataRequest(42, 'sdp', ['iot']);
    const expected = new Writer().int16(3).int16(4).int32(42).string('sdp').int32(1).string('iot').int8(0).build();
    expect(frame.readInt32BE(0)).toBe(expected.length);
    expect(frame.subarray(4)).toEqual(expected);
  });

  it('decodes brokers, controller and per-partition leader, replicas and ISR', () => {
    const w = new Writer().int32(42).int32(0);
    w.int32(2)
      .int32(1)
      .string('127.0.0.1')
      .int32(19092)
      .string(null)
      .int32(2)
      .string('127.0.0.1')
      .int32(29092)
      .string('rack-b');
    w.string('qZanELgsau7iUtmb-1hAvw').int32(2);
    w.int32(2);
    w.int16(0).string('iot').int8(0).int32(2);
    w.int16(0).int32(0).int32(1).int32s([1, 2]).int32s([1, 2]);
    w.int16(0).int32(1).int32(2).int32s([2, 1]).int32s([2]);
    w.int16(3).string('missing').int8(0).int32(0);
    const { correlationId, metadata } = decodeMetadataResponse(w.build());
    expect(correlationId).toBe(42);
    expect(metadata.brokers).toEqual([
      { nodeId: 1, host: '127.0.0.1', port: 19092 },
      { nodeId: 2, host: '127.0.0.1', port: 29092 },
    ]);
    expect(metadata.controllerId).toBe(2);
    expect(metadata.topics).toEqual([
      {
        topic: 'iot',
        errorCode: 0,
        partitions: [
          { partition: 0, errorCode: 0, leader: 1, replicas: [1, 2], isr: [1, 2] },
          { partition: 1, errorCode: 0, leader: 2, replicas: [2, 1], isr: [2] },
        ],
      },
      { topic: 'missing', errorCode: 3, partitions: [] },
    ]);
  });
});
