/**
 * How the long-running platform (`run`) is started by `make run` (Makefile, RUN_NODE) and by
 * `services up` (architecture.md, "Back-pressure and shutdown"). Measured with
 * `npm run bench:platform`, same sitting, 1 producer thread:
 *  - `--max-semi-space-size=4`: the main thread's young generation otherwise grows to 32 MB under
 *    load and stays: RSS p50 151 → 126 MB at the default rates (main heap total 59 → 37 MB). Costs
 *    ~5% CPU per event in an ETL catch-up (`bench:etl` 66k → 63k events per CPU second), so only
 *    `run` gets it, never `etl`.
 *  - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates (main, producer threads, libuv
 *    pool, V8 helpers) its own malloc arena up to 8 × cores; two arenas cut the memory outside the
 *    V8 heaps by ~30 MB at 20,000 events/s. An operator's own MALLOC_ARENA_MAX wins.
 * Both must be set when the process starts (V8 sizes its heap, glibc reads the variable, once).
 */
export const PLATFORM_NODE_ARGS: readonly string[] = ['--max-semi-space-size=4'];

export function platformEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2' };
}
