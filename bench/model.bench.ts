/**
 * Model benchmark: our GBDT against XGBoost 1.7 (tree_method=hist, nthread=2) on the same rows.
 * Data: 2,154,048 generated rows (src/data/synthetic.ts, cached in data/bench/), the first 1.5M for
 * training, the rest held out. Same trees, depth, learning rate, bins, min child weight and lambda.
 * Goals: training time ≤ 1.0× XGBoost; held-out AUC ≥ XGBoost − 0.003; batch scoring ≥ 1M rows/s.
 * Also: the default `churnwatch train` (early stopping, calibration) on the first 300k training rows.
 * Run: node --import tsx bench/model.bench.ts [--rows N] [--trees N]. The machine may be shared with
 * other work: wall times are noisy, so CPU seconds are printed too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ColumnarTable } from '../src/data/columnar-table.js';
import { readCsvTable } from '../src/data/csv-reader.js';
import { FEATURES } from '../src/data/customer-schema.js';
import { createRng } from '../src/data/rng.js';
import { writeSyntheticCsv } from '../src/data/synthetic.js';
import { compileForest } from '../src/model/compiled-forest.js';
import { binTable, fitEncoders } from '../src/model/feature-encoder.js';
import { DEFAULT_GBDT_PARAMS, type GbdtParams, trainGbdt } from '../src/model/gbdt.js';
import { calibratedScores, tableMargins } from '../src/model/gbdt-churn-model.js';
import { takeRows } from '../src/model/table-rows.js';
import { trainChurnModel } from '../src/model/train-churn-model.js';
import { rocAuc } from '../src/stats/classification.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const TOTAL_ROWS = arg('rows', 2_154_048);
const TRAIN_ROWS = Math.min(1_500_000, Math.floor(TOTAL_ROWS * 0.7));
const TREES = arg('trees', 100);
const THREADS = Math.min(2, availableParallelism());

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const cpuSeconds = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

// 1. Data (generated once, cached).
const dataDir = join(root, 'data', 'bench');
mkdirSync(dataDir, { recursive: true });
const csv = join(dataDir, `synthetic-${TOTAL_ROWS}-seed7.csv`);
if (!existsSync(csv)) {
  process.stdout.write(`generating ${TOTAL_ROWS} rows into ${csv}…\n`);
  await writeSyntheticCsv(csv, { rows: TOTAL_ROWS, seed: 7 });
}
let t0 = performance.now();
const { table: all } = await readCsvTable(csv);
process.stdout.write(`read ${all.rowCount} rows in ${seconds(t0).toFixed(1)} s\n`);
const range = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
const train = takeRows(all, range(0, TRAIN_ROWS));
const heldOut = takeRows(all, range(TRAIN_ROWS, all.rowCount));

// 2. XGBoost inputs: float32 row-major, categorical columns as dictionary codes.
function writeMatrix(table: ColumnarTable, prefix: string): void {
  const nf = FEATURES.length;
  const x = new Float32Array(table.rowCount * nf);
  FEATURES.forEach((feature, f) => {
    const column = table.columns.get(feature.name)!;
    for (let i = 0; i < table.rowCount; i++) {
      if (column.kind === 'numeric') x[i * nf + f] = column.values[i]!;
      else x[i * nf + f] = column.codes[i]! < 0 ? Number.NaN : column.codes[i]!;
    }
  });
  writeFileSync(`${prefix}.x.f32`, x);
  writeFileSync(`${prefix}.y.u8`, table.target!);
}
const tmp = join(tmpdir(), `churnwatch-model-bench-${process.pid}`);
mkdirSync(tmp, { recursive: true });
writeMatrix(train, join(tmp, 'train'));
writeMatrix(heldOut, join(tmp, 'test'));

const params: GbdtParams = {
  ...DEFAULT_GBDT_PARAMS,
  trees: TREES,
  maxDepth: 6,
  maxLeaves: 64,
  learningRate: 0.1,
  maxBins: 256,
  minChildWeight: 1,
  lambda: 1,
  earlyStoppingRounds: 0,
  threads: THREADS,
};

// 3. XGBoost.
const spec = {
  train: join(tmp, 'train'),
  test: join(tmp, 'test'),
  featureTypes: FEATURES.map((f) => (f.kind === 'numeric' ? 'q' : 'c')),
  trees: TREES,
  maxDepth: params.maxDepth,
  learningRate: params.learningRate,
  maxBin: params.maxBins - 1,
  minChildWeight: params.minChildWeight,
  lambda: params.lambda,
  threads: THREADS,
};
const py = spawnSync('/usr/bin/python3', [join(benchDir, 'xgboost_baseline.py'), JSON.stringify(spec)], {
  encoding: 'utf8',
});
if (py.status !== 0) throw new Error(`xgboost baseline failed:\n${py.stderr}`);
const xgbResult = JSON.parse(py.stdout.trim().split('\n').pop()!) as {
  trainSeconds: number;
  trainCpuSeconds: number;
  heldOutAuc: number;
  predictRowsPerSecond: number;
  version: string;
};

// 4. Ours, same rows and parameters (binning included in the time, as XGBoost's includes its DMatrix).
t0 = performance.now();
let c0 = process.cpuUsage();
const encoders = fitEncoders(train, FEATURES, train.target!, undefined, createRng(1), {
  maxBins: params.maxBins,
});
const model = await trainGbdt(binTable(train, encoders), train.target!, undefined, params);
const oursTrainSeconds = seconds(t0);
const oursTrainCpu = cpuSeconds(c0); // main thread + workers (process-wide)
const forest = compileForest(model.baseScore, model.trees, encoders);
const parts = { encoders, forest, calibrator: { method: 'identity' as const, a: 1, b: 0 } };
tableMargins(parts, takeRows(heldOut, range(0, 10_000))); // warm-up
t0 = performance.now();
const margins = tableMargins(parts, heldOut);
const scoreSeconds = seconds(t0);
const oursAuc = rocAuc(heldOut.target!, margins);

// 5. The default `churnwatch train` on the first 300k training rows.
const demoRows = Math.min(300_000, TRAIN_ROWS);
t0 = performance.now();
c0 = process.cpuUsage();
const demo = await trainChurnModel(takeRows(train, range(0, demoRows)), {
  params: { ...DEFAULT_GBDT_PARAMS, threads: THREADS },
  validationShare: 0.2,
});
const demoSeconds = seconds(t0);
const demoHeldOutAuc = rocAuc(
  heldOut.target!,
  calibratedScores(demo.parts, tableMargins(demo.parts, heldOut)),
);

const figures = {
  rows: { train: train.rowCount, heldOut: heldOut.rowCount },
  params: { trees: TREES, maxDepth: 6, learningRate: 0.1, maxBin: 255, threads: THREADS },
  xgboost: xgbResult,
  ours: {
    trainSeconds: oursTrainSeconds,
    trainCpuSeconds: oursTrainCpu,
    heldOutAuc: oursAuc,
    scoreRowsPerSecond: heldOut.rowCount / scoreSeconds,
  },
  ratios: {
    trainTimeVsXgboost: oursTrainSeconds / xgbResult.trainSeconds,
    aucMinusXgboost: oursAuc - xgbResult.heldOutAuc,
    scoreSpeedVsXgboostPredict: heldOut.rowCount / scoreSeconds / xgbResult.predictRowsPerSecond,
  },
  defaultTrain: {
    rows: demoRows,
    seconds: demoSeconds,
    cpuSeconds: cpuSeconds(c0),
    trees: demo.trees,
    validationAuc: demo.validation.rocAuc,
    heldOutAuc: demoHeldOutAuc,
    calibration: demo.calibration.calibrator.method,
  },
  goals: { trainTimeRatio: '<= 1.0', aucDelta: '>= -0.003', scoreRowsPerSecond: '>= 1e6' },
};

const row = (name: string, ours: string, xgb: string, note: string) =>
  `${name.padEnd(26)}${ours.padStart(14)}${xgb.padStart(14)}  ${note}\n`;
process.stdout.write(`\n${row('', 'churnwatch', `xgboost ${xgbResult.version}`, '')}`);
process.stdout.write(
  row(
    'train seconds (wall)',
    oursTrainSeconds.toFixed(1),
    xgbResult.trainSeconds.toFixed(1),
    `ratio ${figures.ratios.trainTimeVsXgboost.toFixed(2)} (goal ≤ 1.0)`,
  ),
);
process.stdout.write(
  row('train CPU seconds', oursTrainCpu.toFixed(1), xgbResult.trainCpuSeconds.toFixed(1), ''),
);
process.stdout.write(
  row(
    'held-out ROC AUC',
    oursAuc.toFixed(4),
    xgbResult.heldOutAuc.toFixed(4),
    `Δ ${figures.ratios.aucMinusXgboost.toFixed(4)} (goal ≥ −0.003)`,
  ),
);
process.stdout.write(
  row(
    'batch scoring rows/s',
    Math.round(figures.ours.scoreRowsPerSecond).toLocaleString('en'),
    Math.round(xgbResult.predictRowsPerSecond).toLocaleString('en'),
    '(goal ≥ 1,000,000)',
  ),
);
process.stdout.write(
  `\ndefault churnwatch train on ${demoRows} rows: ${demoSeconds.toFixed(1)} s, ${demo.trees} trees, ` +
    `validation AUC ${demo.validation.rocAuc.toFixed(4)}, held-out AUC ${demoHeldOutAuc.toFixed(4)}\n`,
);
mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(join(benchDir, 'results', 'model.json'), `${JSON.stringify(figures, null, 2)}\n`);
rmSync(tmp, { recursive: true, force: true });
process.stdout.write('figures written to bench/results/model.json\n');
