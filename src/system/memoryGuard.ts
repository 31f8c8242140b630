/**
 * Keeps the heap near its live size while a backlog streams through. V8 grows the old generation
 * lazily (towards a quarter of the machine's memory by default), so a catch-up that makes hundreds
 * of MB of short-lived objects per second would keep that much RSS although little of it is live;
 * and a process started as `node dist/main.js` cannot pass --max-old-space-size. So the guard asks
 * for a full collection once the heap in use passes a threshold: `etl.heap_soft_limit`, raised to
 * 1.5 × what survived the last collection when the live set itself is larger (a collection per
 * check would then only burn CPU), at most once per `minIntervalMs`.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = () => void;

let gc: Gc | undefined;

function exposeGc(): Gc | undefined {
  if (gc) return gc;
  const globalGc = (globalThis as { gc?: Gc }).gc;
  if (globalGc) return (gc = globalGc);
  try {
    // Setting the flag after start-up makes `gc` available to contexts created from now on.
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as Gc;
    return gc;
  } catch {
    return undefined;
  }
}

export interface MemoryGuard {
  stop(): void;
  readonly collections: number;
}

export interface MemoryGuardOptions {
  /** Heap in use above which a full collection is asked for. */
  softLimitBytes: number;
  checkEveryMs?: number;
  minIntervalMs?: number;
}

const heapUsed = (): number => v8.getHeapStatistics().used_heap_size;

export function startMemoryGuard(options: MemoryGuardOptions): MemoryGuard {
  const collect = exposeGc();
  let collections = 0;
  let lastMs = 0;
  let thresholdBytes = options.softLimitBytes;
  const minIntervalMs = options.minIntervalMs ?? 100;
  const timer = setInterval(() => {
    if (!collect || heapUsed() < thresholdBytes) return;
    const nowMs = Date.now();
    if (nowMs - lastMs < minIntervalMs) return;
    lastMs = nowMs;
    collect();
    collections += 1;
    thresholdBytes = Math.max(options.softLimitBytes, heapUsed() * 1.5);
  }, options.checkEveryMs ?? 50);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get collections() {
      return collections;
    },
  };
}
