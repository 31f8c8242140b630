import { afterEach, describe, expect, it } from 'vitest';
import { readActorTree } from '../../../src/system/actorTree.js';
import { dispatch, spawn, startSystem, stop, type SystemRef } from '../../../src/system/nact.js';

let system: SystemRef | undefined;
afterEach(() => {
  if (system) stop(system);
  system = undefined;
});

describe('readActorTree', () => {
  it('reads the live tree of a running system, with restart counts from the caller', async () => {
    system = startSystem('actor-tree-test');
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const parent = spawn(system, (s: undefined) => s, 'parent');
    spawn(
      parent,
      async (s: undefined) => {
        await blocked;
        return s;
      },
      'worker-2',
    );
    const worker10 = spawn(
      parent,
      async (s: undefined) => {
        await blocked;
        return s;
      },
      'worker-10',
    );
    dispatch(worker10, 'a');
    dispatch(worker10, 'b');
    await new Promise((r) => setTimeout(r, 20));
    const tree = readActorTree('actor-tree-test', (name) => (name === 'worker-10' ? 3 : 0));
    expect(tree).toHaveLength(1);
    expect(tree[0]).toMatchObject({ name: 'parent', state: 'idle', restarts: 0 });
    // Numeric order: worker-2 before worker-10.
    expect(tree[0]!.children.map((c) => c.name)).toEqual(['worker-2', 'worker-10']);
    expect(tree[0]!.children[1]).toMatchObject({ name: 'worker-10', state: 'busy', mailbox: 1, restarts: 3 });
    release();
  });

  it('is empty for a system that does not run', () => {
    expect(readActorTree('no-such-system')).toEqual([]);
  });
});
