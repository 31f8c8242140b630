import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describePortOwner,
  findExecutable,
  isPidAlive,
  isPortFree,
  isPortListening,
  listProcesses,
} from '../../../src/system/processes.js';

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      resolve({ server, port: address.port });
    });
  });
}

describe('local process helpers', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it('tells a taken port from a free one, and names who holds it', async () => {
    const listening = await listen();
    server = listening.server;
    expect(await isPortListening(listening.port)).toBe(true);
    expect(await isPortFree(listening.port)).toBe(false);
    const owner = describePortOwner(listening.port);
    // ss or lsof are on any Linux CI image; the owner is this very process.
    expect(owner).toMatch(new RegExp(`^\\S+ \\(pid ${process.pid}\\)$`));
    await new Promise<void>((resolve) => listening.server.close(() => resolve()));
    server = undefined;
    expect(await isPortListening(listening.port)).toBe(false);
    expect(await isPortFree(listening.port)).toBe(true);
  });

  it('sees a child process alive, then gone once it exits', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)', 'sdp-marker-arg']);
    const pid = child.pid!;
    expect(isPidAlive(pid)).toBe(true);
    expect(listProcesses().find((p) => p.pid === pid)?.commandLine).toContain('sdp-marker-arg');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(isPidAlive(pid)).toBe(false);
  });

  it('finds executables on PATH only', () => {
    expect(findExecutable('node', { PATH: `/nonexistent:${process.env.PATH ?? ''}` })).toMatch(/\/node$/);
    expect(findExecutable('node', { PATH: '/nonexistent' })).toBeUndefined();
  });
});
