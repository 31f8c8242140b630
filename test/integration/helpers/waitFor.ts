/**
 * Polls `condition` until it returns true; rejects with `what` after `timeoutMs`. For conditions a
 * real cluster reaches eventually (ISR full, a process gone), never as a fixed sleep. `explain`, when
 * given, adds what the test saw to the error (a CI log is all a failed run leaves).
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'condition',
  intervalMs = 100,
  explain?: () => string,
): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadlineMs) {
      const seen = explain ? `; seen:\n${explain()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
