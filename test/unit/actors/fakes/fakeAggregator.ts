/**
 * A stand-in window aggregator (test helper, not a test file): records every message and replies
 * to `batch` with the global watermark the test sets.
 */
import type { AggregatorBatchReply, WindowAggregatorMsg } from '../../../../src/actors/windowAggregator.js';
import type { PageViewBatch } from '../../../../src/windows/pageViewBatch.js';
import { reply, spawn, type AnyRef, type Ref } from '../../../../src/system/nact.js';

export interface FakeAggregator {
  ref: Ref<WindowAggregatorMsg>;
  readonly batches: PageViewBatch[];
  /** Every message but `batch`, in order (assign, revoke, paused, progress, ...). */
  readonly others: WindowAggregatorMsg[];
  /** What the next `batch` replies. */
  globalWatermarkMs: number;
}

export function spawnFakeAggregator(parent: AnyRef, name = 'fake-aggregator'): FakeAggregator {
  const fake: FakeAggregator = {
    ref: undefined as unknown as Ref<WindowAggregatorMsg>,
    batches: [],
    others: [],
    globalWatermarkMs: -Infinity,
  };
  fake.ref = spawn<undefined, WindowAggregatorMsg>(
    parent,
    (state, msg, ctx) => {
      if (msg.type === 'batch') {
        fake.batches.push(structuredClone(msg.batch));
        reply<AggregatorBatchReply>(ctx, { globalWatermarkMs: fake.globalWatermarkMs });
      } else {
        fake.others.push(structuredClone(msg));
      }
      return state;
    },
    name,
  );
  return fake;
}
