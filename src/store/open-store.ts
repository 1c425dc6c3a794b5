/**
 * Opens the store a URL names: `sqlite:<path>` (e.g. `sqlite:data/churnwatch.db`), `sqlite::memory:`,
 * or `postgres://…` / `postgresql://…`. The caller runs migrate() before use.
 */
import type { FeatureSpec } from '../data/feature-types.js';
import { ChurnwatchError } from '../errors.js';
import { createPostgresStore } from './postgres/postgres-store.js';
import type { PredictionStore } from './prediction-store.js';
import { redactUrl } from './redact-url.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import { createThreadedSqliteStore } from './sqlite/threaded-sqlite-store.js';

export const DEFAULT_STORE_URL = 'sqlite:data/churnwatch.db';

export interface OpenStoreOptions {
  /**
   * The model's features (`model.schema.features`); default Expresso's, so callers that name none keep
   * working. migrate() gives each feature the database lacks a column (docs/store-format.md).
   */
  readonly features?: readonly FeatureSpec[];
  /** PostgreSQL pool size (default DEFAULT_POOL_SIZE, 10). */
  readonly poolSize?: number;
  /** PostgreSQL schema (search_path). */
  readonly schema?: string;
  /** SQLite busy timeout, ms. */
  readonly busyTimeoutMs?: number;
  /**
   * SQLite files: write on a writer thread (default true), so inserts never block the event loop.
   * `sqlite::memory:` always writes in-thread (a private in-memory database has one connection).
   */
  readonly writerThread?: boolean;
}

/**
 * Name and kind only: a schema's feature entries carry more (categories), and the SQLite writer thread
 * gets the features as a copy.
 */
function plainFeatures(features: readonly FeatureSpec[]): FeatureSpec[] {
  return features.map((f) => ({ name: f.name, kind: f.kind }));
}

export function openStore(url: string, options: OpenStoreOptions = {}): PredictionStore {
  if (url.startsWith('sqlite:')) {
    // `sqlite:///abs/path` and `sqlite://rel` are accepted too, as other tools write them.
    const rest = url.slice('sqlite:'.length);
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '') {
      throw new ChurnwatchError('CW_STORE_URL_INVALID', `store URL "${url}" names no SQLite file`, {
        hint: 'write sqlite:data/churnwatch.db, sqlite:/absolute/path.db or sqlite::memory:',
      });
    }
    const sqliteOptions = {
      path,
      ...(options.busyTimeoutMs ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
      ...(options.features ? { features: plainFeatures(options.features) } : {}),
    };
    return path !== ':memory:' && (options.writerThread ?? true)
      ? createThreadedSqliteStore(sqliteOptions)
      : createSqliteStore(sqliteOptions);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return createPostgresStore({
      connectionString: url,
      ...(options.poolSize ? { poolSize: options.poolSize } : {}),
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.features ? { features: plainFeatures(options.features) } : {}),
    });
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  const shown = redactUrl(url);
  throw new ChurnwatchError(
    'CW_STORE_URL_INVALID',
    scheme
      ? `store URL "${shown}" has unsupported scheme "${scheme}:"`
      : `store URL "${shown}" has no scheme`,
    {
      hint: 'use sqlite:data/churnwatch.db, sqlite::memory: or postgres://user@host:5432/db (CHURNWATCH_STORE_URL)',
    },
  );
}
