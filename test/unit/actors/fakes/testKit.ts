/**
 * Per-test resources for actor tests (test helper, not a test file): a fresh nact system, temp
 * directories, a silent logger and `waitFor`. Everything made here is undone by `cleanUp()`,
 * which every actor test file registers with `afterEach(cleanUp)`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { startSystem, stop, type PersistenceEngine, type SystemRef } from '../../../../src/system/nact.js';

type CleanUp = () => void | Promise<void>;

const cleanUps: CleanUp[] = [];
const tempDirs: string[] = [];

/** Registers an undo step; steps run in reverse order of registration, temp dirs go last. */
export function onCleanUp(step: CleanUp): void {
  cleanUps.push(step);
}

export async function cleanUp(): Promise<void> {
  const steps = cleanUps.splice(0).reverse();
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  // Last, once every system is stopped: an actor still writing would recreate what is removed.
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  if (errors.length > 0) throw new AggregateError(errors, 'test clean-up failed');
}

/**
 * Registers a step that lets an actor finish its in-flight work (a flush) before its system
 * stops; a failure or timeout there is not the test's result, so it is ignored.
 */
export function settleBeforeStop(settle: () => Promise<unknown>): void {
  onCleanUp(() =>
    settle().then(
      () => undefined,
      () => undefined,
    ),
  );
}

/** A nact system with a unique name, stopped at clean-up (its actors' afterStop hooks run too). */
export function newSystem(engine?: PersistenceEngine): SystemRef {
  const system = startSystem(`test-${randomUUID()}`, engine);
  onCleanUp(async () => {
    stopSystem(system);
    // afterStop hooks run on setImmediate: let them clear their timers before the next step.
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
  return system;
}

const stopped = new WeakSet<object>();

/** Stops a system now (idempotent); tests that restart on the same store call it themselves. */
export function stopSystem(system: SystemRef): void {
  if (stopped.has(system as object)) return;
  stopped.add(system as object);
  stop(system);
}

/** A temp directory removed at the end of clean-up, after every other step. */
export function tempDir(prefix = 'sdp-actor-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export const silentLogger: Logger = pino({ level: 'silent' });

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds (returns its truthy value) or fails after `timeoutMs`. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what: string,
  timeoutMs = 5_000,
  everyMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A promise with its resolve function exposed (a gate a test opens when it wants). */
export interface Gate {
  promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
