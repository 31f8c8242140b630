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
  const { sasl } = config.kafka;
  if (sasl !== null) {
    // Never the password itself: a reference that Compose resolves from the environment, or the file.
    lines.push(
      '# SASL: the password is not written here; Compose takes it from SDP_KAFKA__SASL__PASSWORD (or the file).',
      `KAFKA_SASL_MECHANISM=${sasl.mechanism.toUpperCase()}`,
      `KAFKA_SASL_USERNAME=${sasl.username}`,
      sasl.password_file !== undefined
        ? `KAFKA_SASL_PASSWORD_FILE=${sasl.password_file}`
        : // biome-ignore lint/suspicious/noTemplateCurlyInString: a Docker Compose variable reference, written as is
          'KAFKA_SASL_PASSWORD=${SDP_KAFKA__SASL__PASSWORD}',
    );
  }
  return `${lines.join('\n')}\n`;
}
