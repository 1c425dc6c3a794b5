/**
 * Which client prediction ids POST /log has already taken, so that a retried record (the client timed
 * out, or a batch half-sent) is acknowledged without being stored or counted a second time: the
 * metrics and the live monitor then count what the store keeps. An id is taken once stored
 * (`store.storedIds`) or, before its write, when this server accepted it lately: the batched writer
 * holds at most `maxQueue` records and writes them in order, so of the ids accepted here only the
 * newest `maxQueue` can still be unwritten, and an id this memory has let go of is in the store.
 *
 * Replicas do not share the memory: a retry that reaches another replica before the first record is
 * written (milliseconds, or as long as the store is down) is counted by both (docs/your-model.md).
 */
import type { PredictionStore } from '../store/prediction-store.js';

export interface LoggedIds {
  /** The ids of `ids` taken already: remembered here, or stored (one store lookup). */
  taken(ids: readonly string[]): Promise<Set<string>>;
  /** Whether `id` was accepted here lately (synchronous: for a request that raced this one). */
  remembered(id: string): boolean;
  /** Remembers ids just queued for the store. */
  remember(ids: Iterable<string>): void;
}

/** `capacity`: the writer's maxQueue (at least), so every id still queued is remembered. */
export function createLoggedIds(store: Pick<PredictionStore, 'storedIds'>, capacity: number): LoggedIds {
  if (!(Number.isInteger(capacity) && capacity >= 1))
    throw new RangeError(`logged ids capacity must be a positive integer, got ${capacity}`);
  // Insertion order is acceptance order: the first key is the oldest.
  const recent = new Set<string>();
  return {
    async taken(ids) {
      const out = new Set<string>();
      const ask: string[] = [];
      for (const id of ids) {
        if (recent.has(id)) out.add(id);
        else ask.push(id);
      }
      if (ask.length > 0) for (const id of await store.storedIds(ask)) out.add(id);
      return out;
    },
    remembered: (id) => recent.has(id),
    remember(ids) {
      for (const id of ids) {
        recent.add(id);
        if (recent.size > capacity) recent.delete(recent.values().next().value!);
      }
    },
  };
}
