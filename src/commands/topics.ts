import type { Command } from 'commander';
import { ErrorCodes, SdpError } from '../errors.js';
import {
  alterTopics,
  createTopics,
  describeTopics,
  recreateTopics,
  type TopicDescription,
} from '../kafka/admin/topics.js';
import type { TopicSpec } from '../kafka/admin/topicPlan.js';
import { platformTopicNames } from '../kafka/admin/topicSpecs.js';
import type { WindowTopicRole } from '../kafka/admin/windowTopics.js';
import { renderTable } from '../system/textTable.js';
import type { CommandContext } from './context.js';

const ROLE_LABEL: Record<WindowTopicRole, string> = {
  repartition: "internal: the window stages' repartition topic",
  state: "internal: the window stages' state topic",
};

function labelOf(internal: WindowTopicRole | undefined): string {
  return internal === undefined ? '' : ` (${ROLE_LABEL[internal]})`;
}

/** `created x: 4 partitions, …` / `unchanged x: …`: what a spec is, cleanup.policy where the platform sets it. */
function specLine(s: TopicSpec): string {
  const cleanup = s.cleanupPolicy === undefined ? '' : `, cleanup.policy ${s.cleanupPolicy}`;
  return `${s.partitions} partitions, replication factor ${s.replicationFactor}, min.insync.replicas ${s.minInsyncReplicas}${cleanup}`;
}

export function renderTopicDescriptions(descriptions: readonly TopicDescription[]): string {
  const blocks = descriptions.map((d) => {
    if (!d.exists) return `topic ${d.topic}${labelOf(d.internal)}: does not exist`;
    const head = `topic ${d.topic}: ${d.partitions.length} partitions, replication factor ${d.replicationFactor}, min.insync.replicas ${d.minInsyncReplicas ?? '?'}, cleanup.policy ${d.cleanupPolicy ?? '?'}${labelOf(d.internal)}`;
    const rows = d.partitions.map((p) => {
      const underReplicated = p.isr.length < p.replicas.length ? ' (under-replicated)' : '';
      return [
        String(p.partition),
        p.leader < 0 ? 'none' : String(p.leader),
        p.replicas.join(','),
        `${p.isr.join(',')}${underReplicated}`,
      ];
    });
    return `${head}\n${renderTable(['partition', 'leader', 'replicas', 'isr'], rows)}`;
  });
  return blocks.join('\n\n');
}

export function registerTopicsCommands(program: Command, context: CommandContext): void {
  const topics = program
    .command('topics')
    .description(
      "create or describe the clickstream and IoT topics and the window stages' internal topics of etl.consumer_group",
    );

  topics
    .command('create')
    .description(
      'create the topics with kafka.partitions (internal ones: etl.window_partitions), kafka.replication_factor and min.insync.replicas; existing ones are left as they are',
    )
    .action(async () => {
      const { config } = context.config();
      const result = await createTopics(config, context.logger(2));
      for (const s of result.created) process.stdout.write(`created ${s.topic}: ${specLine(s)}\n`);
      for (const s of result.unchanged)
        process.stdout.write(`unchanged ${s.topic}: already exists with ${specLine(s)}\n`);
      if (result.created.length === 0) process.stdout.write('nothing to do: every topic exists as configured\n');
    });

  topics
    .command('describe')
    .description(
      'print leader, replicas and ISR of every partition, min.insync.replicas and cleanup.policy, of each topic',
    )
    .action(async () => {
      const { config } = context.config();
      const descriptions = await describeTopics(config, context.logger(2));
      process.stdout.write(`${renderTopicDescriptions(descriptions)}\n`);
      const missing = descriptions.filter((d) => !d.exists).map((d) => d.topic);
      if (missing.length > 0) {
        throw new SdpError(
          ErrorCodes.KAFKA_TOPIC_MISSING,
          `topic${missing.length === 1 ? '' : 's'} ${missing.join(', ')} do${missing.length === 1 ? 'es' : ''} not exist`,
          ['`make topics` creates them'],
        );
      }
    });

  topics
    .command('alter')
    .description(
      "raise the partitions of existing input topics to kafka.partitions, set min.insync.replicas and the internal topics' cleanup.policy; partitions are never lowered, R of the internal topics never changed",
    )
    .action(async () => {
      const { config } = context.config();
      const plan = await alterTopics(config, context.logger(2));
      for (const r of plan.raisePartitions) {
        process.stdout.write(
          `raised ${r.topic}: ${r.from} → ${r.to} partitions. Records of one key now go to another partition than before (per-key order holds only from now on); restart a running platform so that it reads the new partitions\n`,
        );
      }
      for (const m of plan.setMinInsyncReplicas)
        process.stdout.write(`set ${m.topic}: min.insync.replicas ${m.from ?? '?'} → ${m.to}\n`);
      for (const c of plan.setCleanupPolicy)
        process.stdout.write(`set ${c.topic}: cleanup.policy ${c.from ?? '?'} → ${c.to}\n`);
      for (const f of plan.fixedPartitionsDiffer) {
        process.stdout.write(
          `NOT changed ${f.topic}: ${f.from} partitions, etl.window_partitions wants ${f.to}; R is fixed once window state exists (a url's counts must keep reaching the stage-2 partition that holds its windows): set etl.window_partitions back to ${f.from} (or auto), or use a new etl.consumer_group\n`,
        );
      }
      for (const d of plan.replicationDiffers) {
        process.stdout.write(
          `NOT changed ${d.topic}: replication factor ${d.from}, config wants ${d.to}; alter does not move replicas: \`topics recreate --yes\` (deletes the data) or a partition reassignment with kafka-reassign-partitions\n`,
        );
      }
      const reported =
        plan.raisePartitions.length +
        plan.setMinInsyncReplicas.length +
        plan.setCleanupPolicy.length +
        plan.replicationDiffers.length +
        plan.fixedPartitionsDiffer.length;
      if (reported === 0)
        process.stdout.write(
          'nothing to do: every topic has the configured partitions, min.insync.replicas and cleanup.policy\n',
        );
    });

  topics
    .command('recreate')
    .description(
      'delete the topics, the internal ones too (every record is lost), and create them again from config; needs --yes',
    )
    .option('--yes', 'yes, delete every record of the topics')
    .action(async (opts: { yes?: boolean }) => {
      const { config } = context.config();
      const what = [
        "offsets restart at 0: the checkpoint store and the lake's file names refer to the old topics, so the platform refuses to start on them (SDP_ERR_KAFKA_OFFSET_OUT_OF_RANGE)",
        'before the next run: `make clean-data` (node dist/main.js data clean --all), after moving the lake aside if you want to keep it',
        "the window stages' internal topics are recreated empty: their state counted offsets of the old topics",
      ];
      if (!opts.yes) {
        throw new SdpError(
          ErrorCodes.USAGE,
          `topics recreate deletes every record of ${platformTopicNames(config).join(', ')}: pass --yes`,
          what,
        );
      }
      const result = await recreateTopics(config, context.logger(2));
      process.stdout.write(
        `deleted ${result.deleted.length > 0 ? result.deleted.join(', ') : 'nothing (no topic existed)'}\n`,
      );
      for (const s of result.created) process.stdout.write(`created ${s.topic}: ${specLine(s)}\n`);
      for (const line of what) process.stdout.write(`note: ${line}\n`);
    });
}
