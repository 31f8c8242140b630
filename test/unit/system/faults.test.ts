import { afterEach, describe, expect, it } from 'vitest';
import { isSdpError } from '../../../src/errors.js';
import {
  armedFault,
  armFaultFromEnv,
  FAULT_POINTS,
  hitFault,
  setCrashForTest,
  setFaultForTest,
  type FaultPoint,
} from '../../../src/system/faults.js';

afterEach(() => setFaultForTest(undefined));

describe('faults', () => {
  it('arms nothing when SDP_FAULT is unset or empty', () => {
    expect(armFaultFromEnv({})).toBeUndefined();
    expect(armFaultFromEnv({ SDP_FAULT: '' })).toBeUndefined();
    expect(armedFault()).toBeUndefined();
  });

  it('arms a known point, and only that point crashes', () => {
    const crashed: FaultPoint[] = [];
    setCrashForTest((point) => {
      crashed.push(point);
      throw new Error(`crash at ${point}`);
    });
    expect(armFaultFromEnv({ SDP_FAULT: 'between-renames' })).toBe('between-renames');
    for (const point of FAULT_POINTS.filter((p) => p !== 'between-renames')) hitFault(point);
    expect(crashed).toEqual([]);
    expect(() => hitFault('between-renames')).toThrow('crash at between-renames');
    expect(crashed).toEqual(['between-renames']);
  });

  it('rejects an unknown point with a config error naming it (exit 2)', () => {
    let thrown: unknown;
    try {
      armFaultFromEnv({ SDP_FAULT: 'after-lunch' });
    } catch (err) {
      thrown = err;
    }
    expect(isSdpError(thrown, 'SDP_ERR_CONFIG_FAULT_UNKNOWN')).toBe(true);
    expect((thrown as Error).message).toContain("'after-lunch'");
    expect(armedFault()).toBeUndefined();
  });
});
