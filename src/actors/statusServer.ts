/**
 * status-server — HTTP on `ui.status_port`: `/` the pipeline dashboard (static files in
 * src/ui/static/), `/api/status` its figures as JSON (the platform's metrics plus Kafka's offsets,
 * lag, actor tree, lake files, warnings), `/api/history` the last 15 minutes for the charts,
 * `/metrics` Prometheus text, `/healthz` (the process answers) and `/readyz` (the platform finished
 * starting and is not shutting down). Token and port-in-use handling: src/ui/httpServer.ts.
 */
import type { Logger } from '../log/logger.js';
import type { PipelineStatus } from '../status/pipelineStatus.js';
import { createMetricsRegistry } from '../status/metricsRegistry.js';
import type { PlatformMetrics } from '../platform/platformMetrics.js';
import { isSdpError } from '../errors.js';
import { startUiServer, type UiServer } from '../ui/httpServer.js';
import { reply, spawn, type ActorContext, type AnyRef, type Ref } from '../system/nact.js';

export type StatusServerMsg =
  /** Query: listen; replies StatusServerAddress (or its error: the port is taken). */
  | { type: 'start' }
  | { type: 'setReady'; ready: boolean }
  /** Query: close the server; replies once closed. */
  | { type: 'stop' };

export type StatusServerAddress =
  | { port: number; error?: undefined }
  | { port?: undefined; error: { code: string; message: string } };

export interface StatusServerOptions {
  host: string;
  port: number;
  token: string | null;
  logger: Logger;
  metrics: () => Promise<PlatformMetrics>;
  status: PipelineStatus;
}

interface State {
  server?: UiServer;
  ready: boolean;
}

export function spawnStatusServer(
  parent: AnyRef,
  options: StatusServerOptions,
  name = 'status-server',
): Ref<StatusServerMsg> {
  const registry = createMetricsRegistry(options.metrics);
  let ready = false;

  const behaviour = async (state: State, msg: StatusServerMsg, ctx: ActorContext<StatusServerMsg>): Promise<State> => {
    switch (msg.type) {
      case 'start': {
        try {
          state.server = await startUiServer({
            name: 'status page',
            host: options.host,
            port: options.port,
            portKey: 'ui.status_port',
            token: options.token,
            logger: options.logger,
            handle: async ({ path }) => {
              switch (path) {
                case '/':
                  return { file: 'dashboard.html' };
                case '/healthz':
                  return { text: 'ok\n' };
                case '/readyz':
                  return ready ? { text: 'ready\n' } : { status: 503, text: 'not ready\n' };
                case '/metrics':
                  return { text: await registry.metrics(), type: registry.contentType };
                case '/api/status':
                  return { json: await options.status.collect() };
                case '/api/history':
                  return { json: options.status.history() };
                default:
                  return undefined;
              }
            },
          });
        } catch (err) {
          if (!isSdpError(err)) throw err;
          reply<StatusServerAddress>(ctx, { error: { code: err.code, message: err.message } });
          return state;
        }
        options.status.start();
        reply<StatusServerAddress>(ctx, { port: state.server.port });
        return state;
      }
      case 'setReady':
        state.ready = msg.ready;
        ready = msg.ready;
        return state;
      case 'stop':
        state.ready = false;
        ready = false;
        options.status.stop();
        if (state.server) {
          const server = state.server;
          state.server = undefined;
          await server.close();
        }
        reply(ctx, { ok: true });
        return state;
    }
  };

  return spawn<State, StatusServerMsg>(parent, behaviour, name, { initialState: { ready: false } });
}
