import type { Command } from 'commander';
import { ErrorCodes, SdpError } from '../errors.js';
import { createTopics, describeTopics, type TopicDescription } from '../kafka/topics.js';
import { renderTable } from './kafka.js';
import type { CommandContext } from './context.js';

export function renderTopicDescriptions(descriptions: readonly TopicDescription[]): string {
  const blocks = descriptions.map((d) => {
    if (!d.exists) return `topic ${d.topic}: does not exist`;
    const head = `topic ${d.topic}: ${d.partitions.length} partitions, replication factor ${d.replicationFactor}, min.insync.replicas ${d.minInsyncReplicas ?? '?'}`;
    const rows = d.partitions.map((p) => {
      const underReplicated = p.isr.length < p.replicas.length ? ' (under-replicated)' : '';
      return [String(p.partition), p.leader < 0 ? 'none' : String(p.leader), p.replicas.join(','), `${p.isr.join(',')}${underReplicated}`];
    });
    return `${head}\n${renderTable(['partition', 'leader', 'replicas', 'isr'], rows)}`;
  });
  return blocks.join('\n\n');
}

export function registerTopicsCommands(program: Command, context: CommandContext): void {
  const topics = program.command('topics').description('create or describe the clickstream and IoT topics');

  topics
    .command('create')
    .description('create the topics with kafka.partitions, kafka.replication_factor and min.insync.replicas; existing ones are left as they are')
    .action(async () => {
      const { config } = context.config();
      const result = await createTopics(config, context.logger(2));
      for (const s of result.created) {
        process.stdout.write(`created ${s.topic}: ${s.partitions} partitions, replication factor ${s.replicationFactor}, min.insync.replicas ${s.minInsyncReplicas}\n`);
      }
      for (const s of result.unchanged) {
        process.stdout.write(`unchanged ${s.topic}: already exists with ${s.partitions} partitions, replication factor ${s.replicationFactor}, min.insync.replicas ${s.minInsyncReplicas}\n`);
      }
      if (result.created.length === 0) process.stdout.write('nothing to do: every topic exists as configured\n');
    });

  topics
    .command('describe')
    .description('print leader, replicas and ISR of every partition, and min.insync.replicas, of each topic')
    .action(async () => {
      const { config } = context.config();
      const descriptions = await describeTopics(config, context.logger(2));
      process.stdout.write(`${renderTopicDescriptions(descriptions)}\n`);
      const missing = descriptions.filter((d) => !d.exists).map((d) => d.topic);
      if (missing.length > 0) {
        throw new SdpError(ErrorCodes.KAFKA_TOPIC_MISSING, `topic${missing.length === 1 ? '' : 's'} ${missing.join(', ')} do${missing.length === 1 ? 'es' : ''} not exist`, ['`make topics` creates them']);
      }
    });
}
