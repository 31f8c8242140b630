import { ErrorCodes, SdpError } from '../errors.js';

/**
 * Runs a Kafka operation with a deadline, so an unreachable cluster is reported (naming the
 * bootstrap servers) instead of being retried for ever.
 */
export async function withKafkaDeadline<T>(bootstrap: readonly string[], timeoutMs: number, what: string, op: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new SdpError(ErrorCodes.KAFKA_UNREACHABLE, `Kafka is unreachable at ${bootstrap.join(',')}: ${what} did not succeed within ${Math.round(timeoutMs / 1000)} s`, [
        'is the cluster running? `make kafka-up` starts a local one; `make kafka-status` tells',
      ]));
    }, timeoutMs);
  });
  try {
    return await Promise.race([op(), deadline]);
  } catch (err) {
    if (err instanceof SdpError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new SdpError(ErrorCodes.KAFKA_UNREACHABLE, `Kafka is unreachable at ${bootstrap.join(',')}: ${what} failed (${reason})`, [
      'is the cluster running? `make kafka-up` starts a local one; `make kafka-status` tells',
    ], { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
