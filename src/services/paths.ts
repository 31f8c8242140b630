/**
 * Where the background platform keeps its pid file (written by `services up`, read by the clean
 * commands to refuse deleting while the platform runs). One definition for every command.
 */
import { resolve } from 'node:path';

/** Relative to the working directory the platform is started from (the repository). */
export const PID_FILE = 'data/sdp.pid';

export function pidFilePath(cwd: string = process.cwd()): string {
  return resolve(cwd, PID_FILE);
}
