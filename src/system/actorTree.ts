/**
 * The live actor tree, read from nact's own bookkeeping (its system map: every actor's children,
 * mailbox and busy flag), so the dashboard shows what really runs, not a drawing of what should.
 * nact exports no API for this; the fields read here are those of nact 7.6's Actor class.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const systemMap = require('nact/lib/system-map.js') as { find(systemName: string): NactNode | undefined };

interface NactNode {
  name: string;
  children: Map<string, NactNode>;
  stopped?: boolean;
  busy?: boolean;
  mailbox?: { length: number };
}

export interface ActorNode {
  name: string;
  /** busy: handling a message now; idle: waiting; stopped. */
  state: 'busy' | 'idle' | 'stopped';
  mailbox: number;
  /** Times this actor (or the part of the tree it belongs to) was restarted after a failure. */
  restarts: number;
  children: ActorNode[];
}

function walk(node: NactNode, restartsOf: (name: string) => number): ActorNode {
  return {
    name: node.name,
    state: node.stopped ? 'stopped' : node.busy ? 'busy' : 'idle',
    mailbox: node.mailbox?.length ?? 0,
    restarts: restartsOf(node.name),
    children: [...node.children.values()]
      .map((c) => walk(c, restartsOf))
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true })),
  };
}

/** The tree under the system named `systemName`; [] when that system is not running. */
export function readActorTree(systemName: string, restartsOf: (name: string) => number = () => 0): ActorNode[] {
  const system = systemMap.find(systemName);
  if (!system) return [];
  return [...system.children.values()].map((c) => walk(c, restartsOf));
}
