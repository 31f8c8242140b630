import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCodes, SdpError } from '../errors.js';

/**
 * Where a worker-thread entry file lives, for Piscina (which needs a JavaScript file name).
 *
 * - Compiled (`node dist/main.js`): `<baseName>.js` sits next to the calling module; use it.
 * - From TypeScript sources (vitest): Node 20 cannot load TypeScript in a worker (no
 *   --experimental-strip-types, and no tsx in this project), so the worker runs its compiled twin
 *   under dist/ (tsconfig: rootDir src, outDir dist). That twin must be current: if any .ts file in
 *   the worker's directory is newer than its compiled .js, this throws rather than test old code.
 *   Build first: `npx tsc -p .` (or `npm run build`).
 */
export interface WorkerFile {
  /** A file: URL of the JavaScript entry. */
  filename: string;
  /** Node flags for the worker threads. */
  execArgv: string[];
}

/**
 * @param importMetaUrl `import.meta.url` of the module that owns the worker (same directory).
 * @param baseName the worker's file name without extension, e.g. `encode.worker`.
 * @throws SdpError SDP_ERR_WORKER_FILE_MISSING when no usable JavaScript file exists.
 */
export function resolveWorkerFile(importMetaUrl: string, baseName: string): WorkerFile {
  const dir = path.dirname(fileURLToPath(importMetaUrl));
  const jsFile = path.join(dir, `${baseName}.js`);
  // Compiled: no flags but profiling. Worker threads refuse many of the process's
  // (--max-old-space-size, --trace-gc, ...), and their heap is set through resourceLimits instead.
  if (existsSync(jsFile)) return { filename: pathToFileURL(jsFile).href, execArgv: profilingFlags(process.execArgv) };

  const tsFile = path.join(dir, `${baseName}.ts`);
  const twinDir = compiledTwinDir(dir);
  if (!existsSync(tsFile) || twinDir === undefined) {
    throw new SdpError(ErrorCodes.WORKER_FILE_MISSING, `worker entry ${jsFile} does not exist`);
  }
  const twinFile = path.join(twinDir, `${baseName}.js`);
  if (!existsSync(twinFile)) {
    throw new SdpError(
      ErrorCodes.WORKER_FILE_MISSING,
      `worker ${tsFile} runs from its compiled twin ${twinFile}, which does not exist: run "npx tsc -p ." first`,
    );
  }
  const stale = staleSources(dir, twinDir);
  if (stale.length > 0) {
    throw new SdpError(
      ErrorCodes.WORKER_FILE_MISSING,
      `compiled worker files in ${twinDir} are older than their sources (${stale.join(', ')}): run "npx tsc -p ." first`,
    );
  }
  // A test runner's own flags (loaders, conditions) must not leak into plain Node workers.
  return { filename: pathToFileURL(twinFile).href, execArgv: [] };
}

/**
 * A process started with `node --cpu-prof` profiles its worker threads too (one .cpuprofile per
 * thread, in the same directory): without it the encoder thread's time is invisible (bench:etl).
 */
export function profilingFlags(processExecArgv: readonly string[]): string[] {
  if (!processExecArgv.includes('--cpu-prof')) return [];
  const flags: string[] = [];
  processExecArgv.forEach((a, i) => {
    if (a === '--cpu-prof' || a.startsWith('--cpu-prof-dir=') || a.startsWith('--cpu-prof-interval=')) flags.push(a);
    // The value may also follow as the next argument: `--cpu-prof-dir DIR`.
    else if ((a === '--cpu-prof-dir' || a === '--cpu-prof-interval') && processExecArgv[i + 1] !== undefined)
      flags.push(a, processExecArgv[i + 1]!);
  });
  return flags;
}

/** `<project>/src/a/b` → `<project>/dist/a/b`, or undefined outside a src/ tree. */
function compiledTwinDir(sourceDir: string): string | undefined {
  const parts = sourceDir.split(path.sep);
  const srcIndex = parts.lastIndexOf('src');
  if (srcIndex < 0) return undefined;
  return [...parts.slice(0, srcIndex), 'dist', ...parts.slice(srcIndex + 1)].join(path.sep);
}

function staleSources(sourceDir: string, twinDir: string): string[] {
  const stale: string[] = [];
  for (const name of readdirSync(sourceDir)) {
    if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
    const twin = path.join(twinDir, name.slice(0, -3) + '.js');
    if (!existsSync(twin) || statSync(twin).mtimeMs < statSync(path.join(sourceDir, name)).mtimeMs) stale.push(name);
  }
  return stale;
}
