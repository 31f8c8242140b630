import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, SdpError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log/logger.js';
import { startUiServer, type UiServer } from '../../../src/ui/httpServer.js';

const logger = createLogger({ level: 'silent', format: 'json' });
const servers: UiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(token: string | null = null, port = 0): Promise<UiServer> {
  const s = await startUiServer({
    name: 'test page',
    host: '127.0.0.1',
    port,
    portKey: 'ui.status_port',
    token,
    logger,
    handle: ({ path, query }) =>
      path === '/'
        ? { file: 'dashboard.html' }
        : path === '/api/echo'
          ? { json: { q: query.get('q') } }
          : path === '/boom'
            ? Promise.reject(new Error('kaput'))
            : undefined,
  });
  servers.push(s);
  return s;
}

describe('startUiServer', () => {
  it('serves the page, uPlot from node_modules and JSON, with a CSP that forbids inline scripts', async () => {
    const s = await start();
    const page = await fetch(s.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/vendor/uPlot.iife.min.js');
    const uplot = await fetch(`${s.url}vendor/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toContain('javascript');
    expect(await (await fetch(`${s.url}api/echo?q=x`)).json()).toEqual({ q: 'x' });
    expect((await fetch(`${s.url}favicon.ico`)).status).toBe(204);
    expect((await fetch(`${s.url}nothing`)).status).toBe(404);
    expect(await (await fetch(`${s.url}boom`)).text()).toContain('kaput');
  });

  it('never serves a file outside the static folder', async () => {
    const s = await start();
    expect((await fetch(`${s.url}static/..%2f..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${s.url}static/%2e%2e/httpServer.ts`)).status).toBe(404);
  });

  it('is read-only', async () => {
    const s = await start();
    expect((await fetch(`${s.url}api/echo`, { method: 'POST' })).status).toBe(405);
  });

  it('with a token: 401 without it, 200 with the Bearer header, ?token= sets the cookie', async () => {
    const token = 'sixteen-chars-token';
    const s = await start(token);
    expect((await fetch(s.url)).status).toBe(401);
    expect((await fetch(`${s.url}static/common.css`)).status).toBe(401);
    expect((await fetch(s.url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const viaQuery = await fetch(`${s.url}?token=${token}`);
    expect(viaQuery.status).toBe(200);
    const cookie = viaQuery.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    expect((await fetch(`${s.url}api/echo`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
  });

  it('a port in use is one SdpError naming the config key and the port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const err = await start(null, port).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SdpError);
      expect((err as SdpError).code).toBe(ErrorCodes.UI_PORT_IN_USE);
      expect((err as SdpError).message).toMatch(
        new RegExp(`^ui\\.status_port: port ${port} on 127\\.0\\.0\\.1 is already in use`),
      );
    } finally {
      blocker.close();
    }
  });
});
