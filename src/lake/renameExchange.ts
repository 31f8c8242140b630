import os from 'node:os';
import koffi from 'koffi';
import { ErrorCodes, SdpError } from '../errors.js';

/**
 * Linux's `renameat2(..., RENAME_EXCHANGE)`: swaps two existing paths (directories here) in one step, so that no
 * lookup ever finds either name missing or both names on the same inode. Node has no binding for it, hence the FFI
 * call into libc (glibc 2.28+). It is the only way to replace a non-empty directory's contents for a reader that
 * lists it by path (architecture.md, "Who rewrites a partition's files"): rename(2) onto a non-empty directory fails,
 * and a symlink swapped instead is not followed by DuckDB's `**` glob.
 */

const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;

type RenameAt2 = (oldDirFd: number, oldPath: string, newDirFd: number, newPath: string, flags: number) => number;

let renameat2: RenameAt2 | undefined;

function bind(): RenameAt2 {
  if (renameat2 === undefined) {
    if (process.platform !== 'linux') {
      throw new SdpError(
        ErrorCodes.LAKE_SWAP_UNSUPPORTED,
        `renameat2 exists on Linux only, not on ${process.platform}`,
      );
    }
    const libc = koffi.load('libc.so.6');
    renameat2 = libc.func('int renameat2(int, const char *, int, const char *, unsigned int)') as RenameAt2;
  }
  return renameat2;
}

const ERRNO_NAMES = new Map(Object.entries(os.constants.errno).map(([name, value]) => [value, name]));

/**
 * Exchanges `a` and `b` atomically; both must exist on the same file system.
 * @throws SdpError SDP_ERR_LAKE_SWAP_UNSUPPORTED where the file system or kernel has no exchange (EINVAL, ENOSYS,
 *   EOPNOTSUPP: NFS, FUSE, a kernel before 3.15).
 * @throws an errno error like Node's own (`code` 'ENOENT', 'EXDEV', …) for anything else.
 */
export function exchangePaths(a: string, b: string): void {
  const call = bind();
  if (call(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) === 0) return;
  const errno = koffi.errno();
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  if (code === 'EINVAL' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
    throw new SdpError(
      ErrorCodes.LAKE_SWAP_UNSUPPORTED,
      `cannot exchange ${a} and ${b}: the file system does not support renameat2 RENAME_EXCHANGE (${code})`,
    );
  }
  throw Object.assign(new Error(`${code}: renameat2 RENAME_EXCHANGE ${a} <-> ${b}`), {
    code,
    errno: -errno,
    syscall: 'renameat2',
    path: a,
    dest: b,
  });
}
