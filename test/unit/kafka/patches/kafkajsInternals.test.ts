import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

// dependency-cruiser sees `require('kafkajs/src/…')` with a literal; the patches name their targets in
// constants, which only a look at the text finds. kafkajs's internals change between versions, so only the
// folders that check the version (patches/) or speak the protocol with kafkajs's codecs (wire/) may name them.
describe('kafkajs internals', () => {
  it('are named only under src/kafka/patches/ and src/kafka/wire/', () => {
    const offenders = sources(SRC)
      .map((file) => relative(SRC, file).split('\\').join('/'))
      .filter((file) => !/^kafka\/(patches|wire)\//.test(file))
      .filter((file) => readFileSync(join(SRC, file), 'utf8').includes('kafkajs/src/'));
    expect(offenders).toEqual([]);
  });
});
