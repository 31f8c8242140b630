import { fileURLToPath } from 'node:url';

/** The repository root: config.yml, dist/main.js and pom.xml live here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PROJECT_CONFIG = fileURLToPath(new URL('../../../config.yml', import.meta.url));
export const CLI = fileURLToPath(new URL('../../../dist/main.js', import.meta.url));
