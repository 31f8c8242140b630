/**
 * The Kafka browser on `ui.kafka_ui_port`: read-only pages over a ClusterBrowser (brokers, topics,
 * partitions, consumer groups, messages). `ui.kafka_ui` decides whether `run` starts it: `auto`
 * starts it unless the port already answers (the Docker Kafka UI of docker-compose.kafka.yml
 * takes 8080), `on` requires the port, `off` never starts it. `node dist/main.js ui` starts it alone.
 */
import type { Config } from '../config/schema.js';
import { isSdpError, ErrorCodes, SdpError } from '../errors.js';
import { createClusterBrowser, type ClusterBrowser, type MessageQuery } from '../kafka/browser/clusterBrowser.js';
import type { Logger } from '../log/logger.js';
import { startUiServer, type UiAnswer, type UiRequest, type UiServer } from './httpServer.js';

export interface KafkaBrowserServer {
  server: UiServer;
  close(): Promise<void>;
}

function badRequest(message: string): UiAnswer {
  return { status: 400, json: { error: message } };
}

/** Parses the message query of /api/messages; a string is an error for the page to show. */
export function parseMessageQuery(q: URLSearchParams): MessageQuery | string {
  const topic = q.get('topic');
  const partition = Number(q.get('partition') ?? '0');
  const limit = Number(q.get('limit') ?? '20');
  if (!topic) return 'topic is required';
  if (!Number.isInteger(partition) || partition < 0) return 'partition must be a non-negative integer';
  if (!Number.isInteger(limit) || limit < 1) return 'limit must be a positive integer';
  const from = q.get('from') ?? 'last';
  if (from === 'last') return { topic, partition, from, limit };
  if (from === 'offset') {
    const offset = q.get('offset') ?? '';
    if (!/^\d+$/.test(offset)) return 'offset must be a non-negative integer';
    return { topic, partition, from, offset: BigInt(offset), limit };
  }
  if (from === 'timestamp') {
    const raw = q.get('timestamp') ?? '';
    const timestampMs = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    if (!Number.isFinite(timestampMs)) return 'timestamp must be epoch milliseconds or an ISO-8601 date';
    return { topic, partition, from, timestampMs, limit };
  }
  return 'from must be last, offset or timestamp';
}

/**
 * A failed request as JSON the page shows (static/kafka.js reads `error`), with its SDP_ERR_* code as
 * the command line prints it. Wire and kafkajs errors, and timeouts, get SDP_ERR_KAFKA_BROWSER_FAILED.
 */
export function browserFailure(err: unknown): UiAnswer {
  const e = isSdpError(err)
    ? err
    : new SdpError(ErrorCodes.KAFKA_BROWSER_FAILED, err instanceof Error ? err.message : String(err), [], {
        cause: err,
      });
  return { status: 500, json: { error: `${e.code}: ${e.message}`, code: e.code } };
}

export function kafkaBrowserHandler(browser: ClusterBrowser) {
  const answer = kafkaBrowserAnswer(browser);
  return (request: UiRequest): Promise<UiAnswer | undefined> => answer(request).catch(browserFailure);
}

function kafkaBrowserAnswer(browser: ClusterBrowser) {
  return async ({ path, query }: UiRequest): Promise<UiAnswer | undefined> => {
    switch (path) {
      case '/':
        return { file: 'kafka.html' };
      case '/api/brokers':
        return { json: await browser.brokers() };
      case '/api/topics':
        return { json: await browser.topics() };
      case '/api/topic': {
        const name = query.get('name');
        return name ? { json: await browser.topic(name) } : badRequest('name is required');
      }
      case '/api/groups':
        return { json: await browser.groups() };
      case '/api/group': {
        const id = query.get('id');
        return id ? { json: await browser.group(id) } : badRequest('id is required');
      }
      case '/api/messages': {
        const parsed = parseMessageQuery(query);
        return typeof parsed === 'string' ? badRequest(parsed) : { json: await browser.messages(parsed) };
      }
      default:
        return undefined;
    }
  };
}

/**
 * Starts the Kafka browser. With `mode: 'auto'` a port that is already taken is not an error: the
 * Docker Kafka UI is assumed to answer there, and undefined is returned.
 */
export async function startKafkaBrowser(
  config: Config,
  logger: Logger,
  mode: 'auto' | 'on' = config.ui.kafka_ui === 'off' ? 'on' : config.ui.kafka_ui,
): Promise<KafkaBrowserServer | undefined> {
  const browser = createClusterBrowser(config, logger);
  try {
    const server = await startUiServer({
      name: 'kafka browser',
      host: config.ui.kafka_ui_host,
      port: config.ui.kafka_ui_port,
      portKey: 'ui.kafka_ui_port',
      token: config.ui.auth_token,
      logger,
      handle: kafkaBrowserHandler(browser),
    });
    return {
      server,
      close: async () => {
        await server.close();
        await browser.close();
      },
    };
  } catch (err) {
    await browser.close();
    if (mode === 'auto' && isSdpError(err, ErrorCodes.UI_PORT_IN_USE)) {
      logger.info(
        { component: 'ui', port: config.ui.kafka_ui_port },
        'kafka browser not started: ui.kafka_ui_port already answers (the Docker Kafka UI?); ui.kafka_ui: auto',
      );
      return undefined;
    }
    throw err;
  }
}
