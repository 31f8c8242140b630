/** Kafka unreachable at start: a clear error naming the servers, exit 1, within 30 s. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/runCli.js';

describe('generate with Kafka unreachable', () => {
  it('exits 1 within 30 s with a message naming the bootstrap servers', async () => {
    const result = await runCli(
      ['generate', '--count', '10'],
      { SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1', SDP_LOG__FORMAT: 'json' },
      60_000,
    );
    expect(result.code).toBe(1);
    expect(result.elapsedMs).toBeLessThan(30_000);
    expect(result.stderr).toMatch(/SDP_ERR_KAFKA_UNREACHABLE/);
    expect(result.stderr).toMatch(/Kafka is unreachable at 127\.0\.0\.1:1/);
    // Nothing was started: no producer pool.
    expect(result.stdout).not.toMatch(/producer pool started/);
  });
});
