/**
 * How many encoder threads `etl.encoder_threads` means. `auto`: one fewer than the machine's cores,
 * at most 4, none on a single core. On the 2-core reference machine that is 1: with the columns
 * handed over packed, a thread of its own makes the catch-up faster (bench:etl) and the
 * consuming thread keeps reading while files are encoded.
 */
export type EncoderThreadsSetting = number | 'auto';

export const MAX_AUTO_ENCODER_THREADS = 4;

export function resolveEncoderThreads(setting: EncoderThreadsSetting, cpus: number): number {
  if (setting !== 'auto') return setting;
  return Math.max(0, Math.min(MAX_AUTO_ENCODER_THREADS, Math.floor(cpus) - 1));
}
