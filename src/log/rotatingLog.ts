/**
 * A size-capped log file for the background platform (architecture.md, "Services and operating"):
 * when a write would take `file` past `maxBytes`, `file` becomes `file.1`, `file.1` becomes
 * `file.2`, … and the oldest beyond `keep` files is deleted. The disk used is at most about
 * `keep × maxBytes`, however long the platform runs. Writes are synchronous (pino's own
 * destination is too), so a crash loses no line already logged.
 */
import { closeSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

/** Whether a write of `bytes` into a file of `size` bytes must rotate first (never for an empty file). */
export function mustRotate(size: number, bytes: number, maxBytes: number): boolean {
  return size > 0 && size + bytes > maxBytes;
}

/** The renames of one rotation, oldest first: [from, to] pairs, plus the file to delete. */
export function rotationPlan(file: string, keep: number): { remove: string; renames: Array<[string, string]> } {
  const name = (i: number) => (i === 0 ? file : `${file}.${i}`);
  const renames: Array<[string, string]> = [];
  for (let i = keep - 2; i >= 0; i--) renames.push([name(i), name(i + 1)]);
  return { remove: name(keep - 1), renames };
}

export class RotatingLogFile {
  private fd: number;
  private size: number;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {
    this.fd = openSync(file, 'a');
    this.size = fstatSync(this.fd).size;
  }

  write(chunk: string): boolean {
    const bytes = Buffer.byteLength(chunk);
    if (mustRotate(this.size, bytes, this.maxBytes)) this.rotate();
    writeSync(this.fd, chunk);
    this.size += bytes;
    return true;
  }

  private rotate(): void {
    closeSync(this.fd);
    if (this.keep <= 1) {
      rmSync(this.file, { force: true });
    } else {
      const plan = rotationPlan(this.file, this.keep);
      rmSync(plan.remove, { force: true });
      for (const [from, to] of plan.renames) {
        try {
          renameSync(from, to);
        } catch {
          // a file of the chain is missing: nothing to move
        }
      }
    }
    this.fd = openSync(this.file, 'a');
    this.size = 0;
  }

  end(): void {
    closeSync(this.fd);
  }
}
