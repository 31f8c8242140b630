/**
 * Stable transactional ids for producer threads. Slots live in a SharedArrayBuffer of heartbeats
 * (seconds since `baseMs`): a thread claims a free slot or one whose owner stopped beating, so a
 * replacement thread inherits the dead thread's transactional id and, by initialising it, fences
 * the dead producer and aborts its open transaction at once (instead of after the timeout).
 * There are exactly as many slots as threads, so a replacement always takes over a dead slot.
 */
export const SLOT_STALE_AFTER_MS = 3_000;
const HEARTBEAT_EVERY_MS = 500;

export interface SlotTable {
  buffer: SharedArrayBuffer;
  baseMs: number;
}

export function createSlotTable(slots: number, baseMs: number): SlotTable {
  return { buffer: new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT), baseMs };
}

function secondsSince(baseMs: number, nowMs: number): number {
  // +1 so that 0 always means "free".
  return Math.floor((nowMs - baseMs) / 1000) + 1;
}

export interface SlotLease {
  slot: number;
  release(): void;
}

/** Claims a slot, waiting for a stale one when all are taken. */
export async function claimSlot(
  table: SlotTable,
  options: { timeoutMs: number; now?: () => number },
): Promise<SlotLease> {
  const now = options.now ?? Date.now;
  const beats = new Int32Array(table.buffer);
  const staleAfterS = Math.ceil(SLOT_STALE_AFTER_MS / 1000);
  const deadline = now() + options.timeoutMs;
  for (;;) {
    const nowS = secondsSince(table.baseMs, now());
    for (let slot = 0; slot < beats.length; slot++) {
      const seen = Atomics.load(beats, slot);
      const claimable = seen === 0 || nowS - seen > staleAfterS;
      if (claimable && Atomics.compareExchange(beats, slot, seen, nowS) === seen) {
        const timer = setInterval(
          () => Atomics.store(beats, slot, secondsSince(table.baseMs, now())),
          HEARTBEAT_EVERY_MS,
        );
        timer.unref();
        return {
          slot,
          release() {
            clearInterval(timer);
            Atomics.store(beats, slot, 0);
          },
        };
      }
    }
    if (now() > deadline) throw new Error(`no producer slot became free within ${options.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
