import { describe, expect, it } from 'vitest';
import { ErrorCodes, isRetriable, markRetriable, SdpError } from '../../src/errors.js';

describe('isRetriable', () => {
  it('is true only for an error marked retriable: true', () => {
    expect(isRetriable(new SdpError(ErrorCodes.CHECKPOINT_FAILED, 'x', [], { retriable: true }))).toBe(true);
    expect(isRetriable(new SdpError(ErrorCodes.CHECKPOINT_FAILED, 'x', [], { retriable: false }))).toBe(false);
    expect(isRetriable(new SdpError(ErrorCodes.CHECKPOINT_FAILED, 'x'))).toBe(false);
    expect(isRetriable(new Error('plain'))).toBe(false);
    expect(isRetriable(Object.assign(new Error('kafkajs style'), { retriable: true }))).toBe(true);
    expect(isRetriable('text')).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
  });
});

describe('markRetriable', () => {
  it('marks a plain error and an unmarked SdpError, and returns the same object', () => {
    const plain = new Error('plain');
    expect(markRetriable(plain)).toBe(plain);
    expect(isRetriable(plain)).toBe(true);
    expect(isRetriable(markRetriable(new SdpError(ErrorCodes.LAKE_WRITE_FAILED, 'x')))).toBe(true);
  });

  it('overwrites a foreign flag, but keeps an SdpError its thrower marked not retriable', () => {
    expect(isRetriable(markRetriable(Object.assign(new Error('kafkajs'), { retriable: false })))).toBe(true);
    const final = new SdpError(ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE, 'x', [], { retriable: false });
    expect(isRetriable(markRetriable(final))).toBe(false);
  });

  it('leaves a thrown primitive alone instead of throwing (nact hands on whatever was thrown)', () => {
    const thrown = 'a string' as unknown as Error;
    expect(markRetriable(thrown)).toBe('a string');
    expect(isRetriable(thrown)).toBe(false);
  });
});
