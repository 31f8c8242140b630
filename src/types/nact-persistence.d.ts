/**
 * Types for nact's persistence internals (`nact/lib/persistence`, CommonJS, shipped without types).
 * The shapes follow nact 7.6.2's persistence-engine.js and persistent-actor.js.
 */
declare module 'nact/lib/persistence/index.js' {
  namespace persistence {
    /** One journal entry. nact builds it in `ctx.persist` with `++sequenceNumber`; tags end up sorted. */
    class PersistedEvent<D = unknown> {
      constructor(
        data: D,
        sequenceNumber: number,
        key: string,
        tags?: string[],
        createdAt?: number,
        isDeleted?: boolean,
      );
      data: D;
      sequenceNumber: number;
      key: string;
      tags: string[];
      /** Epoch millis. */
      createdAt: number;
      /** Replay skips deleted events but still advances the actor's sequence number past them. */
      isDeleted: boolean;
    }

    /** The encoded state of an actor after the event `sequenceNumber`. */
    class PersistedSnapshot<D = unknown> {
      constructor(data: D, sequenceNumber: number, key: string, createdAt?: number);
      data: D;
      sequenceNumber: number;
      key: string;
      /** Epoch millis. */
      createdAt: number;
    }

    /**
     * The contract a persistent actor relies on. `events` must return an array synchronously (recovery
     * calls `.reduce` on it); the other three must return promises (nact calls `.catch` on
     * `takeSnapshot`'s result).
     */
    class AbstractPersistenceEngine {
      /** Events with `sequenceNumber > offset`, in order; with `tags`, only those carrying all of them. */
      events(persistenceKey: string, offset?: number, limit?: number, tags?: string[]): PersistedEvent[];
      latestSnapshot(persistenceKey: string): Promise<PersistedSnapshot | undefined>;
      takeSnapshot(persistedSnapshot: PersistedSnapshot): Promise<unknown>;
      persist(persistedEvent: PersistedEvent): Promise<unknown>;
    }

    /** What `configurePersistence` accepts: any object with the engine's four methods. */
    interface PersistenceEngineLike {
      events(persistenceKey: string, offset?: number, limit?: number, tags?: string[]): readonly unknown[];
      latestSnapshot(persistenceKey: string): Promise<unknown>;
      takeSnapshot(persistedSnapshot: PersistedSnapshot): Promise<unknown>;
      persist(persistedEvent: PersistedEvent): Promise<unknown>;
    }

    /** A nact system extension: pass its result to `start(...)`. */
    function configurePersistence(engine: PersistenceEngineLike): (system: object) => object;

    function spawnPersistent(
      parent: unknown,
      f: (...args: never[]) => unknown,
      key: string,
      name?: string,
      properties?: object,
    ): unknown;

    function persistentQuery(
      parent: unknown,
      f: (...args: never[]) => unknown,
      key: string,
      properties?: object,
    ): () => Promise<unknown>;
  }
  export = persistence;
}
