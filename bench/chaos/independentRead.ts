/**
 * The input topics read independently of the platform: kcat (librdkafka, not kafkajs) with
 * `isolation.level=read_committed`, from the beginning to the end of every partition. Records of
 * aborted transactions, and of transactions still open, are not returned: what kcat reads is
 * exactly what was produced. Each record becomes one JSON line `{"p":<partition>,"o":<offset>,"v":<value>}`
 * (the generators' values are JSON objects), which DuckDB reads next.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export async function readCommitted(
  bootstrap: string,
  topic: string,
  outFile: string,
  timeoutMs: number,
): Promise<void> {
  const out = openSync(outFile, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        'kcat',
        [
          '-C',
          '-b',
          bootstrap,
          '-t',
          topic,
          '-o',
          'beginning',
          '-e',
          '-q',
          '-X',
          'isolation.level=read_committed',
          '-f',
          '{"p":%p,"o":%o,"v":%s}\\n',
        ],
        { stdio: ['ignore', out, 'pipe'] },
      );
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`kcat could not start (is it installed? scripts/test-prereqs.d/10-kcat.sh): ${err.message}`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`kcat reading ${topic} exited ${String(code ?? signal)}: ${stderr.trim().slice(-2000)}`));
      });
    });
  } finally {
    closeSync(out);
  }
}

/**
 * Records of every transaction, committed, aborted or still open (`read_uncommitted`), counted
 * without keeping them: minus the committed ones, what kills and aborts left behind.
 */
export async function countUncommittedRead(bootstrap: string, topic: string, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(
      'kcat',
      [
        '-C',
        '-b',
        bootstrap,
        '-t',
        topic,
        '-o',
        'beginning',
        '-e',
        '-q',
        '-X',
        'isolation.level=read_uncommitted',
        '-f',
        '\\n',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let count = 0;
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) count += 1;
    });
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(count);
      else
        reject(
          new Error(
            `kcat reading ${topic} (read_uncommitted) exited ${String(code ?? signal)}: ${stderr.trim().slice(-2000)}`,
          ),
        );
    });
  });
}
