/**
 * A stand-in lake writer for partition-actor tests (test helper, not a test file): `spawnWriter`
 * spawns an actor that records every append, flush and end of backlog, replies `{ backlogHigh }` as the test sets
 * it, and lets the test fire the `onDrained` callback the partition actor handed over.
 */
import type {
  LakeWriterMsg,
  LakeWriterOptions,
  WriterAppend,
  WriterAppendReply,
  WriterFlushReply,
} from '../../../../src/actors/lakeWriter.js';
import { unpackColumns } from '../../../../src/lake/packedColumns.js';
import { reply, spawn, type AnyRef, type Ref } from '../../../../src/system/nact.js';

/** An append as recorded: each row with its UTC date and in the lake's shape (`ts`, not `tsMs`). */
export interface RecordedAppend extends Omit<WriterAppend, 'rows' | 'chunks'> {
  rows: Array<{ dt: string; row: Record<string, unknown> }>;
}

/** The append's rows, packed chunks unpacked, each with the date it was filed under. */
function recorded(msg: WriterAppend, table: 'clickstream' | 'iot'): RecordedAppend {
  const rows: RecordedAppend['rows'] = (msg.rows ?? []).map(({ tsMs, ...fields }) => ({
    dt: new Date(tsMs).toISOString().slice(0, 10),
    row: { ...fields, ts: tsMs },
  }));
  for (const { dt, batch } of msg.chunks ?? []) {
    const { columns, rowCount } = unpackColumns(table, batch);
    for (let i = 0; i < rowCount; i++)
      rows.push({ dt, row: Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, values[i]])) });
  }
  const { chunks: _chunks, ...rest } = msg;
  return structuredClone({ ...rest, rows });
}

export interface FakeWriter {
  /** What the partition actor passed to `spawnWriter` (set once spawned). */
  options?: LakeWriterOptions;
  readonly appends: RecordedAppend[];
  flushes: number;
  /** One entry per `endOfBacklog` received: the last offset appended before it. */
  readonly backlogEnds: string[];
  /** What the next append replies. */
  backlogHigh: boolean;
  spawnWriter(parent: AnyRef, options: LakeWriterOptions): Ref<LakeWriterMsg>;
  /** Calls the writer's `onDrained`, as a real writer does when its backlog clears. */
  drained(): void;
}

export function createFakeWriter(): FakeWriter {
  const fake: FakeWriter = {
    appends: [],
    flushes: 0,
    backlogEnds: [],
    backlogHigh: false,
    spawnWriter(parent, options) {
      fake.options = options;
      let committedOffset = options.committedOffset;
      return spawn<undefined, LakeWriterMsg>(
        parent,
        (state, msg, ctx) => {
          switch (msg.type) {
            case 'append':
              fake.appends.push(recorded(msg, options.table));
              committedOffset = msg.lastOffset;
              reply<WriterAppendReply>(ctx, { backlogHigh: fake.backlogHigh });
              break;
            case 'endOfBacklog':
              fake.backlogEnds.push(committedOffset);
              break;
            case 'flush':
              fake.flushes += 1;
              reply<WriterFlushReply>(ctx, { committedOffset });
              break;
            default:
              break;
          }
          return state;
        },
        'fake-writer',
      );
    },
    drained() {
      if (!fake.options) throw new Error('the writer was never spawned');
      fake.options.onDrained();
    },
  };
  return fake;
}
