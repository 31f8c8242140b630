/**
 * Bytes on disk per topic, summed over every replica on every broker: one DescribeLogDirs request
 * (API 35, v1, all topics) per broker over wireProtocol.ts. kafkajs has no such admin call.
 */
import { sendRequest, WireWriter, type RequestOptions } from './wireProtocol.js';

const DESCRIBE_LOG_DIRS = { key: 35, version: 1 };

export async function describeLogDirSizes(
  brokers: ReadonlyArray<{ host: string; port: number }>,
  options: RequestOptions,
): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const body = new WireWriter().int32(-1).buffer(); // null topics: every topic
  await Promise.all(
    brokers.map(async (b) => {
      const r = await sendRequest(b.host, b.port, DESCRIBE_LOG_DIRS, body, options);
      r.int32(); // throttle_time_ms
      r.array(() => {
        const errorCode = r.int16();
        r.string(); // log_dir
        r.array(() => {
          const topic = r.string();
          r.array(() => {
            r.int32(); // partition
            const size = Number(r.int64());
            r.int64(); // offset_lag
            r.int8(); // is_future_key
            if (errorCode === 0) sizes.set(topic, (sizes.get(topic) ?? 0) + size);
          });
        });
      });
    }),
  );
  return sizes;
}
