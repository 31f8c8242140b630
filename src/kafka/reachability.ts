import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { classifySecurityError, onConnectionFailure, scrubSecret } from './security.js';

/**
 * Runs a Kafka operation with a deadline, so an unreachable cluster is reported (naming the
 * bootstrap servers) instead of being retried for ever. `stillFailing`, asked when the deadline passes, says what
 * the operation was still waiting out then (a leader that did not move: admin/adminSession.ts).
 */
export async function withKafkaDeadline<T>(
  bootstrap: readonly string[],
  timeoutMs: number,
  what: string,
  op: () => Promise<T>,
  config?: Config,
  stillFailing?: () => string | undefined,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let stopListening = (): void => undefined;
  // With config: a certificate problem ends the wait at once, and says which (security.ts).
  const securityFailure = new Promise<never>((_, reject) => {
    if (!config) return;
    const off = onConnectionFailure((err) => {
      const classified = classifySecurityError(err, config);
      if (classified) reject(classified);
    });
    stopListening = () => void off();
  });
  securityFailure.catch(() => undefined);
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const failing = stillFailing?.();
      reject(
        new SdpError(
          ErrorCodes.KAFKA_UNREACHABLE,
          `Kafka is unreachable at ${bootstrap.join(',')}: ${what} did not succeed within ${Math.round(timeoutMs / 1000)} s${failing ? ` (${failing})` : ''}`,
          failing
            ? [
                'a broker is down (`make kafka-status` tells): its partitions move to another in-sync replica within seconds, unless it held their only one',
              ]
            : ['is the cluster running? `make kafka-up` starts a local one; `make kafka-status` tells'],
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([op(), deadline, securityFailure]);
  } catch (err) {
    if (err instanceof SdpError) throw err;
    const security = config ? classifySecurityError(err, config) : undefined;
    if (security) throw security;
    const raw = err instanceof Error ? err.message : String(err);
    const reason = config ? scrubSecret(raw, config) : raw;
    throw new SdpError(
      ErrorCodes.KAFKA_UNREACHABLE,
      `Kafka is unreachable at ${bootstrap.join(',')}: ${what} failed (${reason})`,
      ['is the cluster running? `make kafka-up` starts a local one; `make kafka-status` tells'],
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
    stopListening();
  }
}
