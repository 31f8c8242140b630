/**
 * The day benches' input topics: created with the config's partitions and replication, then waited for until every
 * partition's leader answers (kafkajs's own wait fails on a metadata answer from a broker that has not heard yet).
 */
import type { Admin } from 'kafkajs';
import type { Config } from '../../src/config/schema.js';
import { sleep } from '../../src/system/processes.js';

export async function createInputTopics(admin: Admin, config: Config): Promise<void> {
  const topics = [config.topics.clickstream, config.topics.iot];
  await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((topic) => ({
      topic,
      numPartitions: config.kafka.partitions,
      replicationFactor: config.kafka.replication_factor,
    })),
  });
  for (let attempt = 0; ; attempt++) {
    try {
      for (const topic of topics) await admin.fetchTopicOffsets(topic);
      return;
    } catch (err) {
      if (attempt >= 50) throw err;
      await sleep(200);
    }
  }
}
