/**
 * A typed face on nact. Its bundled typings miss `ctx.persist`, `ctx.recovering` and `ctx.sender`
 * under strict mode, so every actor goes through these few functions instead of casting.
 */
import nact from 'nact';
// The persistence internals are not exported by 'nact' itself; typed in src/types/nact-persistence.d.ts.
import persistence from 'nact/lib/persistence/index.js';

/** An actor's address; `M` is the message type it accepts. */
export interface Ref<M> {
  readonly __message?: M;
  readonly path?: { toString(): string };
  readonly name?: string;
}

export type AnyRef = Ref<unknown>;

export interface ActorContext<M> {
  self: Ref<M>;
  parent: AnyRef;
  name: string;
  path: { toString(): string };
  children: Map<string, AnyRef>;
  /** The reply address of a query (a temporary reference), or whoever dispatched with a sender. */
  sender?: Ref<unknown>;
}

export interface PersistentContext<M> extends ActorContext<M> {
  /** Appends the message to the journal; resolves once it is durable. */
  persist(msg: M): Promise<void>;
  /** True while the journal is being replayed: do not repeat side effects then. */
  recovering?: boolean;
}

export type SupervisionDecision = symbol;

export interface SupervisionContext<M> extends ActorContext<M> {
  stop: symbol;
  stopAll: symbol;
  stopChild: symbol;
  stopAllChildren: symbol;
  escalate: symbol;
  resume: symbol;
  reset: symbol;
  resetAll: symbol;
  resetChild: symbol;
  resetAllChildren: symbol;
  mailbox: M[];
}

export type OnCrash<M> = (
  msg: M | undefined,
  err: Error,
  ctx: SupervisionContext<M>,
  child?: AnyRef,
) => SupervisionDecision | Promise<SupervisionDecision>;

export interface ActorProps<S, M> {
  initialState?: S;
  initialStateFunc?: (ctx: ActorContext<M>) => S;
  onCrash?: OnCrash<M>;
  afterStop?: (state: S, ctx: ActorContext<M>) => void | Promise<void>;
  shutdownAfter?: number;
}

export interface PersistentProps<S, M> extends ActorProps<S, M> {
  snapshotEvery?: number;
  snapshotEncoder?: (state: S) => unknown;
  snapshotDecoder?: (json: unknown) => S;
  encoder?: (msg: M) => unknown;
  decoder?: (json: unknown) => M;
}

export type Behaviour<S, M> = (state: S, msg: M, ctx: ActorContext<M>) => S | Promise<S>;
export type PersistentBehaviour<S, M> = (state: S, msg: M, ctx: PersistentContext<M>) => S | Promise<S>;

/** A nact persistence engine (see src/checkpoint/); only `configurePersistence` needs it. */
export interface PersistenceEngine {
  events(key: string, offset?: number, limit?: number, tags?: string[]): unknown[];
  persist(event: unknown): Promise<unknown>;
  latestSnapshot(key: string): Promise<unknown>;
  takeSnapshot(snapshot: unknown): Promise<unknown>;
}

type Untyped = (...args: unknown[]) => unknown;
const n = nact as unknown as Record<string, Untyped>;

export type SystemRef = AnyRef;

/** Starts an actor system, with a persistence engine when persistent actors will be spawned. */
export function startSystem(name: string, engine?: PersistenceEngine): SystemRef {
  const extensions: unknown[] = [{ name }];
  if (engine) extensions.push(persistence.configurePersistence(engine));
  return n.start!(...extensions) as SystemRef;
}

export function spawn<S, M>(
  parent: AnyRef | Ref<unknown>,
  behaviour: Behaviour<S, M>,
  name: string,
  props: ActorProps<S, M> = {},
): Ref<M> {
  return n.spawn!(parent, behaviour, name, props) as Ref<M>;
}

export function spawnPersistent<S, M>(
  parent: AnyRef | Ref<unknown>,
  behaviour: PersistentBehaviour<S, M>,
  persistenceKey: string,
  name: string,
  props: PersistentProps<S, M> = {},
): Ref<M> {
  return persistence.spawnPersistent(parent, behaviour, persistenceKey, name, props) as Ref<M>;
}

export function dispatch<M>(ref: Ref<M>, msg: M, sender?: Ref<unknown>): void {
  n.dispatch!(ref, msg, sender);
}

/** Sends a message built around a reply address and waits for the reply, at most `timeoutMs`. */
export function query<M, R>(ref: Ref<M>, build: (replyTo: Ref<R>) => M, timeoutMs: number): Promise<R> {
  return n.query!(ref, build, timeoutMs) as Promise<R>;
}

/**
 * {@link query} that also ends when `stopped` resolves: an actor stopped with the message still in its mailbox never
 * replies, and the query would wait its whole timeout. Rejects then with an error {@link isStoppedActorError} knows.
 */
export function queryUntilStopped<M, R>(
  ref: Ref<M>,
  build: (replyTo: Ref<R>) => M,
  timeoutMs: number,
  stopped: Promise<void>,
): Promise<R> {
  return Promise.race([
    query<M, R>(ref, build, timeoutMs),
    stopped.then((): never => {
      throw new Error('Actor stopped or never existed: it stopped before it answered');
    }),
  ]);
}

/** nact's answer to a query of an actor that has stopped (or never existed): it can never reply. */
export function isStoppedActorError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('Actor stopped or never existed');
}

/** Replies to whoever sent the message being handled (a query's temporary reference). */
export function reply<R>(ctx: ActorContext<unknown>, value: R): void {
  if (ctx.sender) n.dispatch!(ctx.sender, value);
}

export function stop(ref: AnyRef | Ref<unknown>): void {
  n.stop!(ref);
}
