/**
 * The HTTP server under both web pages: GET only, the token check (auth.ts), static files
 * (staticFiles.ts), JSON answers, and headers that keep data from ever running as code (a Content
 * Security Policy without inline scripts). A port already in use is one clear error naming the
 * config key, not a stack trace.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { authorize, tokenCookie } from './auth.js';
import { readStaticFile } from './staticFiles.js';

export interface UiRequest {
  path: string;
  query: URLSearchParams;
}

export type UiAnswer =
  | { status?: number; json: unknown }
  | { status?: number; text: string; type?: string }
  | { status?: number; html: string }
  /** Serve this static file (e.g. the page at '/'). */
  | { file: string };

/** Returns undefined for "not found". Thrown errors become 500 with the message as text. */
export type UiHandler = (req: UiRequest) => Promise<UiAnswer | undefined> | UiAnswer | undefined;

export interface UiServerOptions {
  /** For log lines: 'status page' or 'kafka browser'. */
  name: string;
  host: string;
  port: number;
  /** The config key of the port, named in the port-in-use error. */
  portKey: string;
  token: string | null;
  logger: Logger;
  handle: UiHandler;
}

export interface UiServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

async function answer(options: UiServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = { ...SECURITY_HEADERS };
  const send = (status: number, type: string, body: string | Buffer): void => {
    res.writeHead(status, { ...headers, 'content-type': type });
    res.end(body);
  };
  const decision = authorize(options.token, {
    authorization: req.headers.authorization,
    cookie: req.headers.cookie,
    queryToken: url.searchParams.get('token'),
  });
  if (decision === 'denied') {
    res.setHeader('www-authenticate', 'Bearer');
    return send(
      401,
      'text/plain; charset=utf-8',
      'unauthorized: send Authorization: Bearer <ui.auth_token>, or open the page with ?token=<ui.auth_token>\n',
    );
  }
  if (decision === 'allowed-set-cookie' && options.token) headers['set-cookie'] = tokenCookie(options.token);
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return send(405, 'text/plain; charset=utf-8', 'method not allowed: this server is read-only\n');

  // Browsers ask for it on every page; a 404 would be a console error.
  if (url.pathname === '/favicon.ico') {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  const file = await readStaticFile(url.pathname);
  if (file) return send(200, file.type, file.body);
  let result: UiAnswer | undefined;
  try {
    result = await options.handle({ path: url.pathname, query: url.searchParams });
  } catch (err) {
    return send(500, 'text/plain; charset=utf-8', `error: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  if (!result) return send(404, 'text/plain; charset=utf-8', 'not found\n');
  if ('file' in result) {
    const page = await readStaticFile(`/static/${result.file}`);
    return page ? send(200, page.type, page.body) : send(404, 'text/plain; charset=utf-8', 'not found\n');
  }
  const status = result.status ?? 200;
  if ('json' in result) return send(status, 'application/json', JSON.stringify(result.json));
  if ('html' in result) return send(status, 'text/html; charset=utf-8', result.html);
  return send(status, result.type ?? 'text/plain; charset=utf-8', result.text);
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const log = options.logger.child({ component: 'ui', page: options.name });
  const server: Server = createServer((req, res) => {
    answer(options, req, res).catch((err: unknown) => {
      log.warn({ err }, 'request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new SdpError(
            ErrorCodes.UI_PORT_IN_USE,
            `${options.portKey}: port ${options.port} on ${options.host} is already in use (another process listens there); stop it or set ${options.portKey} to a free port`,
          ),
        );
      } else if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        reject(
          new SdpError(
            ErrorCodes.UI_PORT_IN_USE,
            `${options.portKey}: cannot listen on ${options.host}:${options.port} (${err.code})`,
          ),
        );
      } else reject(err);
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/`;
  log.info({ url, port, token_required: options.token !== null }, `${options.name} listening`);
  return {
    port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
