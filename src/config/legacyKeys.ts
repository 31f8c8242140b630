/**
 * Reads the original platform's config.yml: each renamed or reshaped key is translated to this
 * platform's, with a warning naming the new key; keys that configured its Spark cluster are
 * reported as not used here and dropped. Pure: the caller prints the warnings. Everything else
 * (an unknown key, a wrong type) is left for the schema, which reports it as an error.
 */
import { randomBytes } from 'node:crypto';

export interface LegacyTranslation {
  doc: Record<string, unknown>;
  warnings: string[];
  /** Whether the document used any key of the original platform. */
  legacy: boolean;
}

/** A KRaft cluster id: a base64url-encoded 16-byte UUID, 22 characters. */
export function isKraftClusterId(id: unknown): id is string {
  return typeof id === 'string' && /^[A-Za-z0-9_-]{22}$/.test(id) && Buffer.from(id, 'base64url').length === 16;
}

export function newKraftClusterId(random: (n: number) => Buffer = randomBytes): string {
  return random(16).toString('base64url');
}

/** Compose service names of the original (`kafka-1`): they resolve only inside Docker's network. */
const CONTAINER_HOST = /^kafka-?\d+$/i;
/** The original's per-thread base rates ran on this many threads per stream. */
export const LEGACY_RATE_MULTIPLIERS = { clickstream: 4, iot: 3 } as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const list = (items: readonly string[]): string => `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;

export function translateLegacyConfig(
  input: Record<string, unknown>,
  defaultPorts: readonly number[],
  random?: (n: number) => Buffer,
): LegacyTranslation {
  const doc = structuredClone(input);
  const warnings: string[] = [];
  let legacy = false;
  const kafka = isObject(doc.kafka) ? doc.kafka : undefined;

  if (kafka && 'kraft_cluster_id' in kafka) {
    legacy = true;
    const value = kafka.kraft_cluster_id;
    delete kafka.kraft_cluster_id;
    if ('cluster_id' in kafka) {
      warnings.push(
        'kafka.kraft_cluster_id: ignored, kafka.cluster_id is also set (kafka.cluster_id is the key now; delete the old one)',
      );
    } else if (isKraftClusterId(value)) {
      kafka.cluster_id = value;
      warnings.push('kafka.kraft_cluster_id is now kafka.cluster_id: read as kafka.cluster_id (rename the key)');
    } else {
      warnings.push(
        `kafka.kraft_cluster_id is now kafka.cluster_id, and ${JSON.stringify(value)} is not a KRaft cluster id (a base64url-encoded 16-byte UUID of 22 characters, as kafka-storage random-uuid prints): it is ignored and the default kafka.cluster_id is used. Fix: replace the line with   cluster_id: ${newKraftClusterId(random)}`,
      );
    }
  }

  if (kafka && isObject(kafka.external_ports)) {
    const entries = Object.entries(kafka.external_ports);
    const parsed = entries.map(([key, port]) => ({ n: /^broker_(\d+)$/.exec(key)?.[1], port }));
    if (entries.length > 0 && parsed.every((p) => p.n !== undefined)) {
      legacy = true;
      const ports = parsed.sort((a, b) => Number(a.n) - Number(b.n)).map((p) => p.port);
      kafka.external_ports = ports;
      warnings.push(
        `kafka.external_ports: broker_1..${entries.length} read as the list ${JSON.stringify(ports)} (write   external_ports: ${JSON.stringify(ports)})`,
      );
    }
  }

  if (kafka && typeof kafka.bootstrap_servers === 'string') {
    legacy = true;
    const servers = kafka.bootstrap_servers.split(/[,\s]+/).filter((s) => s !== '');
    kafka.bootstrap_servers = servers;
    warnings.push(
      `kafka.bootstrap_servers: the comma-separated text is read as the list ${list(servers)} (write a YAML list)`,
    );
  }
  if (kafka && Array.isArray(kafka.bootstrap_servers)) {
    const servers = kafka.bootstrap_servers.map(String);
    const inContainers = servers.filter((s) => CONTAINER_HOST.test(s.split(':')[0] ?? ''));
    if (inContainers.length > 0) {
      const ports = Array.isArray(kafka.external_ports) ? kafka.external_ports : defaultPorts;
      const fromHost = ports.map((p) => `127.0.0.1:${String(p)}`);
      kafka.bootstrap_servers = fromHost;
      warnings.push(
        `kafka.bootstrap_servers: ${inContainers.join(', ')} ${inContainers.length === 1 ? 'is a container host name' : 'are container host names'}, reachable only inside Docker's network and unreachable from this host; using ${fromHost.join(',')} (kafka.external_ports) instead. Fix:   bootstrap_servers: ${list(fromHost)}`,
      );
    }
  }

  const ui = isObject(doc.ui) ? doc.ui : undefined;
  if (ui && 'spark_master_ui_port' in ui) {
    legacy = true;
    delete ui.spark_master_ui_port;
    warnings.push(
      'ui.spark_master_ui_port: not used here (there is no Spark cluster: the ETL runs inside the platform, its status page is ui.status_port); ignored',
    );
  }

  const generator = isObject(doc.data_generator) ? doc.data_generator : undefined;
  if (generator && 'bootstrap_servers' in generator) {
    legacy = true;
    delete generator.bootstrap_servers;
    warnings.push(
      'data_generator.bootstrap_servers: not used here (the generators use kafka.bootstrap_servers, like every other part); ignored',
    );
  }

  if ('spark' in doc) {
    legacy = true;
    delete doc.spark;
    warnings.push(
      "spark: not used here (the ETL is the platform's own, `node dist/main.js etl`, not a Spark job); the whole section is ignored",
    );
  }

  const rates = generator && isObject(generator.events_per_second) ? generator.events_per_second : undefined;
  if (legacy && rates) {
    const c = typeof rates.clickstream === 'number' ? rates.clickstream : undefined;
    const i = typeof rates.iot === 'number' ? rates.iot : undefined;
    const m = LEGACY_RATE_MULTIPLIERS;
    warnings.push(
      `data_generator.events_per_second: read as total rates across all producer threads (clickstream ${c ?? 'default'}/s, iot ${i ?? 'default'}/s). The original platform took them as per-thread base rates and multiplied them by ${m.clickstream} (clickstream) and ${m.iot} (IoT)` +
        (c !== undefined && i !== undefined
          ? `: for its load write   events_per_second: { clickstream: ${c * m.clickstream}, iot: ${i * m.iot} }`
          : ''),
    );
  }
  return { doc, warnings, legacy };
}
