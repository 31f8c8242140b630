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
  /** The ETL generation each batch was tagged with, index for index. */
  readonly batchGenerations: Array<number | undefined>;
  /** Every message but `batch`, in order (assign, revoke, paused, progress, ...). */
  readonly others: WindowAggregatorMsg[];
  /** What the next `batch` replies. */
  globalWatermarkMs: number;
}

export function spawnFakeAggregator(parent: AnyRef, name = 'fake-aggregator'): FakeAggregator {
  const fake: FakeAggregator = {
    ref: undefined as unknown as Ref<WindowAggregatorMsg>,
    batches: [],
    batchGenerations: [],
    others: [],
    globalWatermarkMs: -Infinity,
  };
  fake.ref = spawn<undefined, WindowAggregatorMsg>(
    parent,
    (state, msg, ctx) => {
      if (msg.type === 'batch') {
        fake.batches.push(structuredClone(msg.batch));
        fake.batchGenerations.push(msg.generation);
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
