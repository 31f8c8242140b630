/**
 * The pages' static files: HTML, JS and CSS in src/ui/static/ (served from the source tree, which
 * a clone and an installed package both have; `dist/ui/*.js` and `src/ui/*.ts` resolve the same
 * folder) and uPlot from node_modules, so the pages work offline and load nothing from a CDN.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STATIC_DIR = fileURLToPath(new URL('../../src/ui/static/', import.meta.url));
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve('uplot')), '.');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Files outside the static folder that the pages load, by URL path. */
const VENDOR: Record<string, string> = {
  '/vendor/uPlot.iife.min.js': join(UPLOT_DIR, 'uPlot.iife.min.js'),
  '/vendor/uPlot.min.css': join(UPLOT_DIR, 'uPlot.min.css'),
};

export interface StaticFile {
  type: string;
  body: Buffer;
}

/** The file for a URL path under /static/ or /vendor/, or undefined (never a path outside them). */
export async function readStaticFile(urlPath: string): Promise<StaticFile | undefined> {
  let file = VENDOR[urlPath];
  if (!file && urlPath.startsWith('/static/')) {
    const candidate = normalize(join(STATIC_DIR, urlPath.slice('/static/'.length)));
    if (candidate.startsWith(STATIC_DIR.endsWith(sep) ? STATIC_DIR : STATIC_DIR + sep)) file = candidate;
  }
  const type = file ? TYPES[extname(file)] : undefined;
  if (!file || !type) return undefined;
  try {
    return { type, body: await readFile(file) };
  } catch {
    return undefined;
  }
}
