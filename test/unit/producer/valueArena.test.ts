import { describe, expect, it } from 'vitest';
import { ValueArena } from '../../../src/producer/valueArena.js';

describe('ValueArena', () => {
  it('gives each value its own UTF-8 bytes, intact after later values fill and replace the chunk', () => {
    const arena = new ValueArena(64);
    const values = ['{"a":1}', 'é€😀', 'x'.repeat(50), '', 'y'.repeat(200), '{"b":"ü"}'];
    const views = values.map((v) => arena.put(v));
    expect(views.map((view) => view.toString('utf8'))).toEqual(values);
    expect(views.map((view) => view.length)).toEqual(values.map((v) => Buffer.byteLength(v, 'utf8')));
    // Views share chunks: the first two values sit side by side in the first one.
    expect(views[1]!.buffer).toBe(views[0]!.buffer);
    expect(views[1]!.byteOffset).toBe(views[0]!.byteOffset + views[0]!.length);
    // A value larger than a chunk gets a chunk of its own.
    expect(views[4]!.buffer).not.toBe(views[2]!.buffer);
  });
});
