/**
 * SIGTERM in the middle of a run: generation stops, every in-flight batch is acknowledged, the
 * summary's totals are exactly what the topics hold (read_committed), and the process exits 0.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/waitFor.js';
import {
  consumeAndDecode,
  duplicates,
  freshTopicsPerBlock,
  logLines,
  producerSummary,
  startCli,
} from '../helpers/producerFixtures.js';

describe('generate stopped by SIGTERM', () => {
  const freshTopics = freshTopicsPerBlock();

  it('acknowledges what it sent, prints totals equal to the events in the topics, exits 0', async () => {
    const fresh = await freshTopics();
    const { config } = fresh;
    const cli = startCli(['generate', '--clickstream-rate', '2000', '--iot-rate', '1000'], fresh.env);
    await waitFor(
      () => logLines(cli.stdout()).some((l) => l.msg === 'producer pool started'),
      30_000,
      'the producer pool to start',
    );
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    cli.child.kill('SIGTERM');
    const exit = await cli.exited;

    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    const summary = producerSummary(exit.stdout);
    expect(summary).toBeDefined();
    // About 4 s at 2000 + 1000 per second were under way.
    expect(summary!.clickstream_total).toBeGreaterThan(2_000);
    expect(summary!.iot_total).toBeGreaterThan(1_000);

    const consumed = await consumeAndDecode(config);
    expect(consumed.invalid).toEqual([]);
    expect(consumed.messages.clickstream.length).toBe(summary!.clickstream_total);
    expect(consumed.messages.iot.length).toBe(summary!.iot_total);
    expect(duplicates(consumed.clickstream.map((r) => r.event_id))).toEqual([]);
    // The shutdown order of architecture.md, "Back-pressure and shutdown" is logged.
    const messages = logLines(exit.stdout).map((l) => l.msg);
    expect(messages.indexOf('stopping: waiting for in-flight batches')).toBeGreaterThanOrEqual(0);
    expect(messages.indexOf('producer summary')).toBeGreaterThan(
      messages.indexOf('stopping: waiting for in-flight batches'),
    );
  });
});
