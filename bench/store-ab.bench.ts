/**
 * Insert speed of this checkout's SQLite store against another checkout's (before/after a change), in
 * one process: alternating rounds of ROWS Expresso predictions in batches of 1,000 (each packed by
 * toPredictionRows in the timed loop, as in store.bench.ts) into a fresh file, rates by the process's
 * CPU time (steady when other work shares the cores) and by wall time, medians and their ratio.
 * Usage: STORE_AB_BEFORE=/path/to/other/checkout node --import tsx bench/store-ab.bench.ts
 * Sizes: STORE_AB_ROWS (default 200,000), STORE_AB_ROUNDS (default 4). STORE_AB_POSTGRES=1 compares
 * PostgreSQL inserts instead (a fresh schema per round; CPU time is then the client's only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { FEATURES } from '../src/data/customer-schema.js';
import type { RawFeatures } from '../src/data/feature-types.js';
import type { PredictionRecord, PredictionRows, PredictionStore } from '../src/store/prediction-store.js';

const ROWS = Number(process.env.STORE_AB_ROWS ?? 200_000);
const ROUNDS = Number(process.env.STORE_AB_ROUNDS ?? 4);
const beforeRoot = process.env.STORE_AB_BEFORE;
if (!beforeRoot) throw new Error('set STORE_AB_BEFORE to the checkout to compare with');

const POSTGRES = process.env.STORE_AB_POSTGRES === '1';
const PG_URL =
  process.env.CHURNWATCH_TEST_POSTGRES_URL ??
  `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;

interface Side {
  createSqliteStore(options: { path: string }): PredictionStore;
  createPostgresStore(options: {
    connectionString: string;
    poolSize: number;
    schema: string;
  }): PredictionStore;
  toPredictionRows(records: readonly PredictionRecord[]): PredictionRows;
}

async function load(root: string): Promise<Side> {
  const store = await import(join(root, 'src/store/sqlite/sqlite-store.ts'));
  const columns = await import(join(root, 'src/store/store-columns.ts'));
  const postgres = await import(join(root, 'src/store/postgres/postgres-store.ts'));
  return {
    createSqliteStore: store.createSqliteStore,
    createPostgresStore: postgres.createPostgresStore,
    toPredictionRows: columns.toPredictionRows,
  };
}

const sides: Record<'before' | 'after', Side> = {
  before: await load(resolve(beforeRoot)),
  after: await load(resolve(fileURLToPath(import.meta.url), '..', '..')),
};

let seed = 1;
const rng = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
};
const records: PredictionRecord[] = Array.from({ length: ROWS }, (_, i) => {
  const features: RawFeatures = {};
  for (const f of FEATURES) {
    if (rng() < 0.3) continue;
    features[f.name] = f.kind === 'numeric' ? Math.round(rng() * 100_000) / 10 : `v${Math.floor(rng() * 8)}`;
  }
  return {
    id: `p${i.toString(36).padStart(8, '0')}`,
    createdAt: 1_700_000_000_000 + i * 100,
    userId: `u${i % 40_000}`,
    modelVersion: 'm',
    features,
    score: rng(),
    predictedClass: (i % 2) as 0 | 1,
  };
});

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const rates = {
  before: { cpu: [] as number[], wall: [] as number[] },
  after: { cpu: [] as number[], wall: [] as number[] },
};
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const)) {
    const side = sides[name];
    const dir = mkdtempSync(join(tmpdir(), 'churnwatch-store-ab-'));
    const schema = `cw_ab_${name}_${round}_${process.pid}`;
    if (POSTGRES) await admin(`CREATE SCHEMA ${schema}`);
    try {
      const store = POSTGRES
        ? side.createPostgresStore({ connectionString: PG_URL, poolSize: 4, schema })
        : side.createSqliteStore({ path: join(dir, 'ab.db') });
      await store.migrate();
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      for (let i = 0; i < ROWS; i += 1000)
        await store.insertRows(side.toPredictionRows(records.slice(i, i + 1000)));
      const cpu = process.cpuUsage(cpu0);
      rates[name].wall.push(ROWS / ((performance.now() - wall0) / 1000));
      rates[name].cpu.push(ROWS / ((cpu.user + cpu.system) / 1e6));
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (POSTGRES) await admin(`DROP SCHEMA ${schema} CASCADE`);
    }
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const kind of ['cpu', 'wall'] as const) {
  const show = (values: number[]) => values.map((v) => Math.round(v).toLocaleString()).join(', ');
  process.stdout.write(
    `${kind === 'cpu' ? 'rows per CPU second' : 'rows per second'}: before ${show(rates.before[kind])}; after ${show(rates.after[kind])}; median after/before ${(median(rates.after[kind]) / median(rates.before[kind])).toFixed(3)}\n`,
  );
}
