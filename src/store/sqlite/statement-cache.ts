/**
 * Prepared statements made on first use, set by set: the tables exist only after migrate(), and
 * migrate() drops every set so the next use prepares it against the schema it left.
 */
import type Database from 'better-sqlite3';

export interface StatementCache {
  /** A getter for what `prepare` makes, prepared on its first call after each reset. */
  define<T>(prepare: (db: Database.Database) => T): () => T;
  /** Prepares every set now: fails with a TypeError naming migrate() when the schema is missing. */
  prepareAll(): void;
  reset(): void;
}

export function createStatementCache(db: Database.Database, path: string): StatementCache {
  const getters: (() => unknown)[] = [];
  const resets: (() => void)[] = [];
  return {
    define<T>(prepare: (db: Database.Database) => T): () => T {
      let prepared: T | undefined;
      const get = (): T => {
        if (prepared === undefined) {
          try {
            prepared = prepare(db);
          } catch (error) {
            if (/no such (table|column)/.test((error as Error).message)) {
              throw new TypeError(`SQLite store ${path} has no schema yet: call migrate() first`);
            }
            throw error;
          }
        }
        return prepared;
      };
      getters.push(get);
      resets.push(() => {
        prepared = undefined;
      });
      return get;
    },
    prepareAll() {
      for (const get of getters) get();
    },
    reset() {
      for (const reset of resets) reset();
    },
  };
}
