import { describe, expect, it } from 'vitest';
import {
  dispatch,
  isStoppedActorError,
  query,
  queryUntilStopped,
  spawn,
  startSystem,
  stop,
} from '../../../src/system/nact.js';

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

describe('queryUntilStopped', () => {
  it('ends when the actor stops with the message still in its mailbox, not at the timeout', async () => {
    const system = startSystem('query-until-stopped');
    try {
      // The first message keeps the actor busy for ever: the query's message waits behind it.
      const actor = spawn<undefined, { type: 'hold' } | { type: 'ask' }>(
        system,
        async (state, msg) => {
          if (msg.type === 'hold') await new Promise(() => undefined);
          return state;
        },
        'held',
      );
      dispatch(actor, { type: 'hold' });
      let markStopped: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => {
        markStopped = resolve;
      });
      const asked = queryUntilStopped(actor, () => ({ type: 'ask' as const }), 600_000, stopped).catch(
        (e: unknown) => e,
      );
      stop(actor);
      markStopped();
      const startedMs = Date.now();
      const err = await asked;
      expect(isStoppedActorError(err)).toBe(true);
      expect(Date.now() - startedMs).toBeLessThan(1_000);
    } finally {
      stop(system);
    }
  });
});
