import { describe, expect, it } from 'vitest';
import { isStoppedActorError, query, spawn, startSystem, stop } from '../../../src/system/nact.js';

describe('isStoppedActorError', () => {
  it("names nact's refusal to query a stopped actor, and nothing else", async () => {
    const system = startSystem('stopped-actor-query');
    try {
      const actor = spawn<undefined, { type: 'ping' }>(system, (state) => state, 'pinged');
      stop(actor);
      await new Promise((r) => setTimeout(r, 10));
      const err = await query(actor, () => ({ type: 'ping' as const }), 1_000).catch((e: unknown) => e);
      expect(isStoppedActorError(err)).toBe(true);
      expect(isStoppedActorError(new Error('query timed out'))).toBe(false);
      expect(isStoppedActorError('Actor stopped or never existed')).toBe(false);
    } finally {
      stop(system);
    }
  });
});
