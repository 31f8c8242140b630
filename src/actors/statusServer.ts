/**
 * status-server — HTTP on `ui.status_port`: `/` the status page, `/api/status` the same figures as
 * JSON, `/metrics` Prometheus text, `/healthz` (the process answers) and `/readyz` (the platform
 * finished starting and is not shutting down).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import { DASHBOARD_HTML } from '../status/dashboard.js';
import { createMetricsRegistry } from '../status/metricsRegistry.js';
import type { PlatformMetrics } from '../supervisor.js';
import { reply, spawn, type ActorContext, type AnyRef, type Ref } from '../system/nact.js';

export type StatusServerMsg =
  /** Query: listen; replies StatusServerAddress. */
  | { type: 'start' }
  | { type: 'setReady'; ready: boolean }
  /** Query: close the server; replies once closed. */
  | { type: 'stop' };

export interface StatusServerAddress {
  port: number;
}

export interface StatusServerOptions {
  host: string;
  port: number;
  logger: Logger;
  metrics: () => Promise<PlatformMetrics>;
}

interface State {
  server?: Server;
  ready: boolean;
}

export function spawnStatusServer(parent: AnyRef, options: StatusServerOptions, name = 'status-server'): Ref<StatusServerMsg> {
  const logger = options.logger.child({ component: 'status-server' });
  const registry = createMetricsRegistry(options.metrics);

  const behaviour = async (state: State, msg: StatusServerMsg, ctx: ActorContext<StatusServerMsg>): Promise<State> => {
    switch (msg.type) {
      case 'start': {
        const server = createServer((req, res) => {
          const path = (req.url ?? '/').split('?')[0];
          const send = (status: number, type: string, body: string): void => {
            res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
            res.end(body);
          };
          const fail = (err: unknown): void => send(500, 'text/plain; charset=utf-8', `error: ${err instanceof Error ? err.message : String(err)}\n`);
          if (req.method !== 'GET') return send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
          switch (path) {
            case '/':
              return send(200, 'text/html; charset=utf-8', DASHBOARD_HTML);
            case '/healthz':
              return send(200, 'text/plain; charset=utf-8', 'ok\n');
            case '/readyz':
              return state.ready ? send(200, 'text/plain; charset=utf-8', 'ready\n') : send(503, 'text/plain; charset=utf-8', 'not ready\n');
            case '/metrics':
              registry.metrics().then((text) => send(200, registry.contentType, text), fail);
              return;
            case '/api/status':
              options.metrics().then((m) => send(200, 'application/json', JSON.stringify(m)), fail);
              return;
            default:
              return send(404, 'text/plain; charset=utf-8', 'not found\n');
          }
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(options.port, options.host, () => resolve());
        });
        state.server = server;
        const { port } = server.address() as AddressInfo;
        logger.info({ url: `http://${options.host}:${port}/`, port }, 'status page listening');
        reply<StatusServerAddress>(ctx, { port });
        return state;
      }
      case 'setReady':
        state.ready = msg.ready;
        return state;
      case 'stop':
        state.ready = false;
        if (state.server) {
          const server = state.server;
          state.server = undefined;
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
        reply(ctx, { ok: true });
        return state;
    }
  };

  return spawn<State, StatusServerMsg>(parent, behaviour, name, { initialState: { ready: false } });
}
