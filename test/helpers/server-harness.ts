import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES } from '../../src/data/customer-schema.js';
import { generateCustomerRows } from '../../src/data/synthetic.js';
import { type BuildAppOptions, buildApp } from '../../src/server/build-app.js';
import { createBatchedWriter } from '../../src/store/batched-writer.js';
import { openStore } from '../../src/store/open-store.js';
import type { PredictionStore } from '../../src/store/prediction-store.js';

export const POSTGRES_URL =
  process.env.CHURNWATCH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  readonly url: string;
  readonly store: PredictionStore;
  /** Opens another store on the same data (a restart). */
  reopen(): Promise<PredictionStore>;
  cleanup(): Promise<void>;
}

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  open(dir: string): Promise<TestStore>;
}

/** Both store backends: a SQLite file in `dir`, and the local PostgreSQL in a fresh schema. */
export const BACKENDS: readonly Backend[] = [
  {
    name: 'sqlite',
    async open(dir) {
      const url = `sqlite:${join(dir, `serve-${randomBytes(4).toString('hex')}.db`)}`;
      const store = openStore(url, { busyTimeoutMs: 50 });
      await store.migrate();
      return {
        url,
        store,
        async reopen() {
          const again = openStore(url, { busyTimeoutMs: 50 });
          await again.migrate();
          return again;
        },
        async cleanup() {
          await store.close();
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `cw_server_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const store = openStore(POSTGRES_URL, { schema, poolSize: 4 });
      await store.migrate();
      return {
        url: POSTGRES_URL,
        store,
        async reopen() {
          const again = openStore(POSTGRES_URL, { schema, poolSize: 4 });
          await again.migrate();
          return again;
        },
        async cleanup() {
          await store.close();
          const c = new pg.Client({ connectionString: POSTGRES_URL });
          await c.connect();
          await c.query(`DROP SCHEMA ${schema} CASCADE`);
          await c.end();
        },
      };
    },
  },
];

export type RequestRecord = Record<string, string | number | null>;

/** Realistic request bodies from the synthetic generator; missing values are sent as null. */
export function customerRequests(n: number, seed = 3, lowerCase = false): RequestRecord[] {
  const out: RequestRecord[] = [];
  for (const row of generateCustomerRows({ rows: n, seed })) {
    const r: RequestRecord = { user_id: row.userId };
    for (const f of NUMERIC_FEATURES) {
      const v = row.numeric[f];
      r[lowerCase ? f.toLowerCase() : f] = Number.isNaN(v) ? null : v;
    }
    for (const f of CATEGORICAL_FEATURES) r[lowerCase ? f.toLowerCase() : f] = row.categorical[f];
    out.push(r);
  }
  return out;
}

/** Parses the Prometheus text format into `name{labels}` → value (enough for assertions). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

/** Sum of every series of `name` whose labels include all of `match` (e.g. `feature="REGION"`). */
export function sumSeries(metrics: Map<string, number>, name: string, ...match: string[]): number {
  let total = 0;
  for (const [key, value] of metrics) {
    const brace = key.indexOf('{');
    const base = brace < 0 ? key : key.slice(0, brace);
    if (base !== name) continue;
    if (match.every((m) => key.includes(m))) total += value;
  }
  return total;
}

/**
 * buildApp as the integration tests use it: the real batched writer, no logs, no /docs, no periodic
 * join (tests call joinPendingNow()); anything else comes from `options`.
 */
export function buildTestApp(options: Omit<BuildAppOptions, 'createWriter'>): Promise<FastifyInstance> {
  return buildApp({
    createWriter: createBatchedWriter,
    logger: false,
    docs: false,
    periodicJoin: false,
    ...options,
  });
}
