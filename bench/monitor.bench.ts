/**
 * Monitor speed.
 * 1. Chunked analysis over a SQLite log of 2M predictions with 1.5M labels (goal: analysis ≤ 5 s).
 *    The log is written once through the store API (insertPredictions, recordFeedback; no HTTP) and kept
 *    in the temp directory for later runs. Reported: readColumns (the store's part), analysis with daily
 *    chunks, and as baseline the same analysis without thinning raw values (every value sorted for KS
 *    and Wasserstein).
 * 2. The live window: observations per second, and one analysis of a 100k-row window against the
 *    baseline of evaluateDrift over windowFromTable on the same rows (the statistics engineer's path).
 * Model: MONITOR_BENCH_MODEL, else models/latest, else the tests' small model (trained once, cached).
 * Sizes: MONITOR_BENCH_ROWS (default 2,000,000). The machine may be shared: figures are indicative.
 * Usage: node --import tsx bench/monitor.bench.ts
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES, type RawFeatures } from '../src/data/customer-schema.js';
import { generateCustomerRows } from '../src/data/synthetic.js';
import { loadModel } from '../src/model/model-io.js';
import { analyzeChunks } from '../src/monitor/chunks.js';
import { evaluateDrift, numericWindow, windowFromTable } from '../src/monitor/drift-policy.js';
import { analyzeWindow } from '../src/monitor/window-analysis.js';
import { PredictionWindow } from '../src/monitor/windows.js';
import { openStore } from '../src/store/open-store.js';
import type { FeedbackInput, PredictionRecord } from '../src/store/prediction-store.js';
import { toPredictionRows } from '../src/store/store-columns.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';

const ROWS = Number(process.env.MONITOR_BENCH_ROWS ?? 2_000_000);
const LABELS = Math.round(ROWS * 0.75);
const POOL = 20_000;
const DAYS = 30;
const WINDOW = 100_000;
// A fresh clone has no models/latest: train the tests' small model then (its size does not matter here).
const modelPath =
  process.env.MONITOR_BENCH_MODEL ??
  (existsSync('models/latest') ? 'models/latest' : join(await trainSmallModel(), 'latest'));

const model = await loadModel(modelPath);
const analysisModel = {
  version: model.info.version,
  threshold: model.info.threshold,
  profile: model.profile,
};

// A pool of distinct generated customers, cycled: generating 2M customers would dominate the run.
const pool = [...generateCustomerRows({ rows: POOL, seed: 2026 })];
const poolFeatures: RawFeatures[] = pool.map((r) => {
  const f: RawFeatures = {};
  for (const n of NUMERIC_FEATURES) f[n] = Number.isNaN(r.numeric[n]) ? null : r.numeric[n];
  for (const c of CATEGORICAL_FEATURES) f[c] = r.categorical[c];
  return f;
});
const poolScores = model.scoreRecords(poolFeatures);
const start = Date.UTC(2026, 0, 1);
const step = (DAYS * 86_400_000) / ROWS;
const record = (i: number): PredictionRecord => {
  const k = i % POOL;
  return {
    id: `b${String(i).padStart(8, '0')}`,
    createdAt: start + Math.floor(i * step),
    userId: pool[k]!.userId,
    modelVersion: model.info.version,
    features: poolFeatures[k]!,
    score: poolScores[k]!,
    predictedClass: poolScores[k]! >= model.info.threshold ? 1 : 0,
  };
};

const results: Record<string, number | string> = { rows: ROWS, labels: LABELS, days: DAYS, cores: 2 };
const seconds = (t0: number) => (performance.now() - t0) / 1000;

// --- 1. chunked analysis over the stored log -----------------------------------------------------
const dbPath = join(tmpdir(), `churnwatch-monitor-bench-${ROWS}-${model.info.version}.db`);
if (!existsSync(dbPath)) {
  const building = `${dbPath}.building`;
  rmSync(building, { force: true });
  const store = openStore(`sqlite:${building}`);
  await store.migrate();
  const t0 = performance.now();
  for (let i = 0; i < ROWS; i += 5000) {
    const batch: PredictionRecord[] = [];
    for (let j = i; j < Math.min(ROWS, i + 5000); j++) batch.push(record(j));
    await store.insertRows(toPredictionRows(batch));
  }
  results.insertSeconds = seconds(t0);
  const t1 = performance.now();
  // Labels for the first 75 % of predictions (the newest have none yet), observed a day later.
  for (let i = 0; i < LABELS; i += 5000) {
    const batch: FeedbackInput[] = [];
    for (let j = i; j < Math.min(LABELS, i + 5000); j++) {
      const p = record(j);
      batch.push({
        predictionId: p.id,
        label: pool[j % POOL]!.churn,
        observedAt: p.createdAt + 86_400_000,
        receivedAt: p.createdAt + 86_400_000,
      });
    }
    await store.recordFeedback(batch);
  }
  results.feedbackSeconds = seconds(t1);
  await store.close();
  renameSync(building, dbPath);
}

const store = openStore(`sqlite:${dbPath}`);
await store.migrate();
let t = performance.now();
const columns = await store.readColumns({ modelVersion: model.info.version });
results.readColumnsSeconds = seconds(t);
await store.close();
let labeled = 0;
for (let i = 0; i < columns.rowCount; i++) if (columns.label[i] !== -1) labeled++;
results.readRows = columns.rowCount;
results.readLabeled = labeled;

t = performance.now();
const daily = analyzeChunks(analysisModel, columns, { chunking: { periodMs: 86_400_000 } });
results.analyzeDailySeconds = seconds(t);
results.dailyChunks = daily.chunks.length;
t = performance.now();
analyzeChunks(analysisModel, columns, { chunking: { rows: 100_000 } });
results.analyze100kRowChunksSeconds = seconds(t);
t = performance.now();
analyzeChunks(analysisModel, columns, {
  chunking: { periodMs: 86_400_000 },
  rawValueRows: Number.MAX_SAFE_INTEGER,
});
results.baselineAnalyzeDailyAllValuesSeconds = seconds(t);
results.analyzeGoalSeconds = 5;
results.analyzeSpeedupOverAllValues =
  (results.baselineAnalyzeDailyAllValuesSeconds as number) / (results.analyzeDailySeconds as number);

// --- 2. the live window ---------------------------------------------------------------------------
const window = new PredictionWindow(model.profile, model.info.version, { maxRows: WINDOW });
const observations = Array.from({ length: 3 * WINDOW }, (_, i) => record(i));
t = performance.now();
for (const o of observations) window.add(o);
const observeSeconds = seconds(t);
results.windowObservationsPerSecond = Math.round(observations.length / observeSeconds);
t = performance.now();
const analysis = analyzeWindow(analysisModel, window.snapshot());
results.windowAnalyzeMs = seconds(t) * 1000;
// Baseline: the drift policy over a table of the same 100k rows, every raw value sorted.
const lastRows = Uint32Array.from({ length: WINDOW }, (_, k) => 2 * WINDOW + k);
t = performance.now();
const baseline = evaluateDrift(model.profile, {
  ...windowFromTable(model.profile, columns.features, lastRows),
  score: numericWindow(
    model.profile.score,
    { kind: 'numeric', name: 'score', values: columns.score },
    lastRows,
  ),
});
results.baselineDriftOnTableMs = seconds(t) * 1000;
results.windowAnalyzeGoalMs = 100;
results.windowSpeedupOverBaseline =
  (results.baselineDriftOnTableMs as number) / (results.windowAnalyzeMs as number);
if (analysis.drift.features.length !== baseline.features.length)
  throw new Error('window and baseline disagree');

const table = Object.entries(results).map(
  ([k, v]) => `${k.padEnd(40)} ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`,
);
process.stdout.write(`${table.join('\n')}\n`);
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'monitor.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
