/** The repository this build lives in (dist/storage/ → two levels up): no storage root may contain it. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));
