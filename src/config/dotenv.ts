import type { Config } from './schema.js';

/** The `.env` file that docker-compose.kafka.yml reads: ports and ids taken from config.yml. */
export function renderDotEnv(config: Config): string {
  const [p1, p2, p3] = config.kafka.external_ports;
  const lines = [
    '# Written by `node dist/main.js config env` from config.yml; edit config.yml, not this file.',
    `KAFKA_CLUSTER_ID=${config.kafka.cluster_id}`,
    `KAFKA_VERSION=${config.kafka.local.kafka_version}`,
    `KAFKA_1_PORT=${p1 ?? ''}`,
    `KAFKA_2_PORT=${p2 ?? ''}`,
    `KAFKA_3_PORT=${p3 ?? ''}`,
    `KAFKA_UI_PORT=${config.ui.kafka_ui_port}`,
  ];
  return `${lines.join('\n')}\n`;
}
