/**
 * Store speed: insert rate on SQLite (2M predictions in batches of 1,000, each packed by
 * toPredictionRows in the timed loop) and feedback rate (1.5M labels), then readColumns of everything
 * (goal <= 3 s, so the monitor's chunked analysis fits in 5 s), and the insert, feedback and
 * readColumns rates on PostgreSQL (200k rows). Baselines measured in the same run: one transaction per
 * prediction (what batching avoids) and readPredictions objects (what readColumns avoids).
 * Sizes: STORE_BENCH_ROWS (default 2,000,000), STORE_BENCH_PG_ROWS (default 200,000; 0 skips PostgreSQL).
 * Schema: Expresso's 17 features, or with STORE_BENCH_FEATURES=n a generic table of n features (60 %
 * numeric, the rest categorical with a few levels each), as a non-Expresso model would log them.
 * Usage: node --import tsx bench/store.bench.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { FEATURES } from '../src/data/customer-schema.js';
import type { FeatureSpec, RawFeatures } from '../src/data/feature-types.js';
import { createPostgresStore } from '../src/store/postgres/postgres-store.js';
import type { FeedbackInput, PredictionRecord, PredictionStore } from '../src/store/prediction-store.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { toPredictionRows } from '../src/store/store-columns.js';

const ROWS = Number(process.env.STORE_BENCH_ROWS ?? 2_000_000);
const LABELS = Math.round(ROWS * 0.75);
const PG_ROWS = Number(process.env.STORE_BENCH_PG_ROWS ?? 200_000);
const BATCH = 1_000;
const WIDTH = Number(process.env.STORE_BENCH_FEATURES ?? 0);
/** The features stored: Expresso's, or a generic table of WIDTH features. */
const SCHEMA: readonly FeatureSpec[] =
  WIDTH > 0
    ? Array.from({ length: WIDTH }, (_, i) =>
        i < Math.round(WIDTH * 0.6)
          ? { name: `num ${i}`, kind: 'numeric' as const }
          : { name: `cat-${i}`, kind: 'categorical' as const },
      )
    : FEATURES;
const PG_URL =
  process.env.CHURNWATCH_TEST_POSTGRES_URL ??
  `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;

let seed = 12345;
function rng(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
}
const REGIONS = ['DAKAR', 'THIES', 'SAINT-LOUIS', 'LOUGA', 'KAOLACK', 'DIOURBEL', 'TAMBACOUNDA', 'KAFFRINE'];
const TENURES = ['K > 24 month', 'I 18-21 month', 'H 15-18 month', 'G 12-15 month'];
const PACKS = [
  'All-net 500F=2000F;5d',
  'On net 200F=Unlimited _call24H',
  'Data:490F=1GB,7d',
  'Mixt 250F=Unlimited_call24H',
];

function record(i: number): PredictionRecord {
  const features: RawFeatures = {};
  for (const f of SCHEMA) {
    if (rng() < 0.3) continue;
    if (f.kind === 'numeric') features[f.name] = Math.round(rng() * 100_000) / 10;
    else if (WIDTH > 0) features[f.name] = PACKS[Math.floor(rng() * PACKS.length)]!;
    else if (f.name === 'REGION') features[f.name] = REGIONS[Math.floor(rng() * REGIONS.length)]!;
    else if (f.name === 'TENURE') features[f.name] = TENURES[Math.floor(rng() * TENURES.length)]!;
    else if (f.name === 'MRG') features[f.name] = 'NO';
    else features[f.name] = PACKS[Math.floor(rng() * PACKS.length)]!;
  }
  const score = rng();
  return {
    id: `p${i.toString(36).padStart(8, '0')}`,
    createdAt: 1_700_000_000_000 + i * 100,
    userId: `u${i % 400_000}`,
    modelVersion: i < ROWS / 2 ? '20261127T031500Z-aaaa' : '20261201T031500Z-bbbb',
    features,
    score,
    predictedClass: score >= 0.5 ? 1 : 0,
  };
}

async function insertAll(store: PredictionStore, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const batch: PredictionRecord[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(record(j));
    await store.insertRows(toPredictionRows(batch, store.rowLayout));
  }
  return (performance.now() - started) / 1000;
}

/**
 * Labels for 3 of every 4 of the predictions insertAll wrote, in batches: by prediction id mostly, every
 * 10th by user id. Returns the seconds taken.
 */
async function recordAllFeedback(store: PredictionStore, labels: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < labels; i += BATCH) {
    const items: FeedbackInput[] = [];
    for (let j = i; j < Math.min(labels, i + BATCH); j++) {
      const p = Math.floor((j * 4) / 3);
      const createdAt = 1_700_000_000_000 + p * 100;
      items.push(
        j % 10 === 0
          ? {
              userId: `u${p % 400_000}`,
              label: (p % 5 === 0 ? 1 : 0) as 0 | 1,
              observedAt: createdAt + 50,
              receivedAt: createdAt + 60,
            }
          : {
              predictionId: `p${p.toString(36).padStart(8, '0')}`,
              label: (p % 5 === 0 ? 1 : 0) as 0 | 1,
              observedAt: createdAt + 50,
              receivedAt: createdAt + 60,
            },
      );
    }
    await store.recordFeedback(items);
  }
  return (performance.now() - started) / 1000;
}

const results: Record<string, number | string> = {
  rows: ROWS,
  labels: LABELS,
  pgRows: PG_ROWS,
  features: SCHEMA.length,
  cores: 2,
};
const table: [string, string][] = [];
const dir = mkdtempSync(join(tmpdir(), 'churnwatch-bench-'));
try {
  // Baseline: one transaction per prediction, on a small sample.
  const naive = createSqliteStore({ path: join(dir, 'naive.db'), features: SCHEMA });
  await naive.migrate();
  const naiveRows = 5_000;
  const naiveStart = performance.now();
  for (let i = 0; i < naiveRows; i++) await naive.insertRows(toPredictionRows([record(i)], naive.rowLayout));
  const naiveRate = naiveRows / ((performance.now() - naiveStart) / 1000);
  await naive.close();

  const store = createSqliteStore({ path: join(dir, 'bench.db'), features: SCHEMA });
  await store.migrate();
  const insertSeconds = await insertAll(store, ROWS);
  const insertRate = ROWS / insertSeconds;

  const feedbackRate = LABELS / (await recordAllFeedback(store, LABELS));
  const counts = await store.countFeedback();

  // Three full reads: the cores are shared, so best and median say more than one figure.
  const readTimes: number[] = [];
  let columns = await store.readColumns({ limit: 1 });
  for (let k = 0; k < 3; k++) {
    const readStart = performance.now();
    columns = await store.readColumns();
    readTimes.push((performance.now() - readStart) / 1000);
  }
  readTimes.sort((x, y) => x - y);
  const readSeconds = readTimes[0]!;
  const readMedian = readTimes[1]!;
  const labelled = columns.label.reduce((n, l) => n + (l === -1 ? 0 : 1), 0);
  if (columns.rowCount !== ROWS || labelled !== LABELS) throw new Error('readColumns lost rows or labels');

  // Baseline: objects, on the newest 200k rows, against readColumns of the same rows.
  const sample = Math.min(200_000, ROWS);
  const objStart = performance.now();
  let objRows = 0;
  for await (const page of store.readPredictions({ limit: sample })) objRows += page.length;
  const objSeconds = (performance.now() - objStart) / 1000;
  const colStart = performance.now();
  const sampleColumns = await store.readColumns({ limit: sample });
  const colSeconds = (performance.now() - colStart) / 1000;
  await store.close();
  if (objRows !== sample || sampleColumns.rowCount !== sample) throw new Error('sample reads disagree');

  Object.assign(results, {
    sqliteNaiveInsertRowsPerSecond: Math.round(naiveRate),
    sqliteInsertRowsPerSecond: Math.round(insertRate),
    sqliteInsertSeconds: insertSeconds,
    batchedOverNaive: insertRate / naiveRate,
    sqliteFeedbackPerSecond: Math.round(feedbackRate),
    joined: counts.joined,
    readColumnsRows: columns.rowCount,
    readColumnsLabelled: labelled,
    readColumnsSeconds: readSeconds,
    readColumnsMedianSeconds: readMedian,
    readColumnsGoalSeconds: 3,
    readColumnsOverObjects: objSeconds / colSeconds,
  });
  table.push(
    ['SQLite insert, 1 transaction per row (baseline)', `${Math.round(naiveRate).toLocaleString()} rows/s`],
    [
      `SQLite insertRows, batches of ${BATCH}`,
      `${Math.round(insertRate).toLocaleString()} rows/s (${(insertRate / naiveRate).toFixed(0)}x)`,
    ],
    [
      `SQLite recordFeedback, ${LABELS.toLocaleString()} labels`,
      `${Math.round(feedbackRate).toLocaleString()} items/s (${counts.joined.toLocaleString()} joined)`,
    ],
    [
      `SQLite readColumns, ${columns.rowCount.toLocaleString()} rows (${labelled.toLocaleString()} labelled)`,
      `best ${readSeconds.toFixed(2)} s, median ${readMedian.toFixed(2)} s of 3 (goal <= 3 s)`,
    ],
    [
      `readColumns vs readPredictions objects, ${sample.toLocaleString()} rows`,
      `${(objSeconds / colSeconds).toFixed(1)}x faster`,
    ],
  );

  if (PG_ROWS > 0) {
    const schema = `cw_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    try {
      const pgStore = createPostgresStore({
        connectionString: PG_URL,
        poolSize: 4,
        schema,
        features: SCHEMA,
      });
      await pgStore.migrate();
      const pgSeconds = await insertAll(pgStore, PG_ROWS);
      const pgLabels = Math.round(PG_ROWS * 0.75);
      const pgFeedbackRate = pgLabels / (await recordAllFeedback(pgStore, pgLabels));
      const pgCounts = await pgStore.countFeedback();
      const pgReadStart = performance.now();
      const pgColumns = await pgStore.readColumns();
      const pgReadSeconds = (performance.now() - pgReadStart) / 1000;
      await pgStore.close();
      Object.assign(results, {
        postgresInsertRowsPerSecond: Math.round(PG_ROWS / pgSeconds),
        postgresFeedbackPerSecond: Math.round(pgFeedbackRate),
        postgresReadColumnsSeconds: pgReadSeconds,
      });
      table.push(
        [
          `PostgreSQL insertRows, ${PG_ROWS.toLocaleString()} rows`,
          `${Math.round(PG_ROWS / pgSeconds).toLocaleString()} rows/s`,
        ],
        [
          `PostgreSQL recordFeedback, ${pgLabels.toLocaleString()} labels`,
          `${Math.round(pgFeedbackRate).toLocaleString()} items/s (${pgCounts.joined.toLocaleString()} joined)`,
        ],
        [
          `PostgreSQL readColumns, ${pgColumns.rowCount.toLocaleString()} rows`,
          `${pgReadSeconds.toFixed(2)} s`,
        ],
      );
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const width = Math.max(...table.map(([k]) => k.length));
for (const [k, v] of table) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
process.stdout.write('(2 cores shared with other work: figures are indicative)\n');
const out = join(
  dirname(fileURLToPath(import.meta.url)),
  'results',
  WIDTH > 0 ? `store-${WIDTH}-features.json` : 'store.json',
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`figures written to ${out}\n`);
