/**
 * Model benchmark: our GBDT against XGBoost 1.7 (tree_method=hist, nthread=2) on the same rows.
 * Data: 2,154,048 generated rows (src/data/synthetic.ts, cached in data/bench/), the first 1.5M for
 * training, the rest held out. Same trees, depth, learning rate, bins, min child weight and lambda.
 * Goals: training time ≤ 1.0× XGBoost; held-out AUC ≥ XGBoost − 0.003; batch scoring ≥ 1M rows/s.
 * Also: the default `churnwatch train` (early stopping, calibration) on the 1.5M training rows (or the
 * first --default-rows N of them): its validation AUC and its AUC on the held-out rows.
 * Run: node --import tsx bench/model.bench.ts [--rows N] [--trees N] [--default-rows N]. The machine may
 * be shared with other work: wall times are noisy, so CPU seconds are printed too.
 * `--scoring-only [--repeats N]`: no training benchmark. A model of the same shape (100 trees, depth 6)
 * is trained once on the first 300k rows and cached in data/bench/; XGBoost's booster likewise. Then
 * the held-out rows are scored N times (default 5) by the raw-threshold path (before), the bin-space
 * path (tableMargins), and two threads (scoreTableParallel's pool), and XGBoost predicts them N times
 * in the same run; best and median rows/s are printed and written to bench/results/model-scoring.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ColumnarTable } from '../src/data/columnar-table.js';
import { readCsvTable } from '../src/data/csv-reader.js';
import { FEATURES } from '../src/data/customer-schema.js';
import { createRng } from '../src/data/rng.js';
import { writeSyntheticCsv } from '../src/data/synthetic.js';
import { compileForest, forestFromJson, forestToJson } from '../src/model/compiled-forest.js';
import { binTable, type FeatureEncoder, fitEncoders } from '../src/model/feature-encoder.js';
import { DEFAULT_GBDT_PARAMS, type GbdtParams, trainGbdt } from '../src/model/gbdt.js';
import {
  calibratedScores,
  type ModelParts,
  referenceTableMargins,
  tableMargins,
} from '../src/model/gbdt-churn-model.js';
import { createScoringPool } from '../src/model/parallel-scoring.js';
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

/** The parameters both XGBoost and we train with: same trees, depth, learning rate and bins. */
const BENCH_PARAMS: GbdtParams = {
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
const SCORING_ONLY = process.argv.includes('--scoring-only');
const REPEATS = arg('repeats', 5);

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

async function fullBenchmark(): Promise<void> {
  const train = takeRows(all, range(0, TRAIN_ROWS));
  const heldOut = takeRows(all, range(TRAIN_ROWS, all.rowCount));

  const tmp = join(tmpdir(), `churnwatch-model-bench-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  writeMatrix(train, join(tmp, 'train'));
  writeMatrix(heldOut, join(tmp, 'test'));

  const params = BENCH_PARAMS;

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

  // 5. The default `churnwatch train` (early stopping, calibration, threshold) on the training rows.
  const demoRows = Math.min(arg('default-rows', TRAIN_ROWS), TRAIN_ROWS);
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
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const best = (xs: number[]) => Math.max(...xs);

/** Times `score` REPEATS times after one warm-up; rows per wall second of each run. */
async function rates(rows: number, score: () => unknown): Promise<number[]> {
  await score();
  const out: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t = performance.now();
    await score();
    out.push(rows / ((performance.now() - t) / 1000));
  }
  return out;
}

async function scoringOnly(): Promise<void> {
  const trainRows = Math.min(300_000, TRAIN_ROWS);
  const train = takeRows(all, range(0, trainRows));
  const heldOut = takeRows(all, range(TRAIN_ROWS, all.rowCount));
  const params = BENCH_PARAMS;
  const cache = join(dataDir, `scoring-model-${TOTAL_ROWS}-${trainRows}-${TREES}.json`);
  let parts: ModelParts;
  if (existsSync(cache)) {
    const doc = JSON.parse(readFileSync(cache, 'utf8'));
    parts = {
      encoders: doc.encoders as FeatureEncoder[],
      forest: forestFromJson(doc.forest),
      calibrator: IDENTITY,
    };
  } else {
    process.stdout.write(`training the ${TREES}-tree scoring model on ${trainRows} rows (cached after)…\n`);
    const encoders = fitEncoders(train, FEATURES, train.target!, undefined, createRng(1), { maxBins: 256 });
    const model = await trainGbdt(binTable(train, encoders), train.target!, undefined, params);
    parts = { encoders, forest: compileForest(model.baseScore, model.trees, encoders), calibrator: IDENTITY };
    writeFileSync(cache, JSON.stringify({ encoders, forest: forestToJson(parts.forest) }));
  }
  const n = heldOut.rowCount;
  const before = await rates(n, () => referenceTableMargins(parts, heldOut));
  const fast = await rates(n, () => tableMargins(parts, heldOut));
  const pool = await createScoringPool({ threads: THREADS });
  const parallel = await rates(n, () => pool.margins(parts, heldOut));
  // Same predictions, bit for bit, on every path.
  const reference = referenceTableMargins(parts, heldOut);
  for (const [name, m] of [
    ['tableMargins', tableMargins(parts, heldOut)],
    ['parallel', await pool.margins(parts, heldOut)],
  ] as const) {
    for (let i = 0; i < n; i++)
      if (!Object.is(m[i], reference[i])) throw new Error(`${name} differs from the reference at row ${i}`);
  }
  await pool.close();

  const tmp = join(tmpdir(), `churnwatch-scoring-bench-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  writeMatrix(train, join(tmp, 'train'));
  writeMatrix(heldOut, join(tmp, 'test'));
  const spec = {
    predictOnly: true,
    boosterCache: join(dataDir, `scoring-xgboost-${TOTAL_ROWS}-${trainRows}-${TREES}.json`),
    repeats: REPEATS,
    train: join(tmp, 'train'),
    test: join(tmp, 'test'),
    featureTypes: FEATURES.map((f) => (f.kind === 'numeric' ? 'q' : 'c')),
    trees: TREES,
    maxDepth: 6,
    learningRate: 0.1,
    maxBin: 255,
    minChildWeight: 1,
    lambda: 1,
    threads: THREADS,
  };
  const py = spawnSync('/usr/bin/python3', [join(benchDir, 'xgboost_baseline.py'), JSON.stringify(spec)], {
    encoding: 'utf8',
  });
  rmSync(tmp, { recursive: true, force: true });
  if (py.status !== 0) throw new Error(`xgboost baseline failed:\n${py.stderr}`);
  const xgb = JSON.parse(py.stdout.trim().split('\n').pop()!) as {
    predictRowsPerSecond: number;
    predictRowsPerSecondMedian: number;
    predictRuns: number[];
    version: string;
  };
  const figures = {
    rows: n,
    trees: parts.forest.roots.length,
    threads: THREADS,
    repeats: REPEATS,
    loadAverage: loadavg(),
    rowsPerSecond: {
      rawThresholds: { best: best(before), median: median(before), runs: before },
      binned: { best: best(fast), median: median(fast), runs: fast },
      binnedParallel: { best: best(parallel), median: median(parallel), runs: parallel },
      xgboostPredict: {
        best: xgb.predictRowsPerSecond,
        median: xgb.predictRowsPerSecondMedian,
        runs: xgb.predictRuns,
        version: xgb.version,
      },
    },
    ratios: {
      binnedVsRawMedian: median(fast) / median(before),
      parallelVsXgboostMedian: median(parallel) / xgb.predictRowsPerSecondMedian,
      binnedVsXgboostMedian: median(fast) / xgb.predictRowsPerSecondMedian,
    },
    goal: 'scoring >= 1e6 rows/s',
  };
  const fmt = (x: number) => Math.round(x).toLocaleString('en').padStart(12);
  process.stdout.write(
    `\nscoring ${n} held-out rows, ${figures.trees} trees depth 6, ${REPEATS} runs each\n`,
  );
  process.stdout.write(`${'rows/s'.padEnd(34)}${'best'.padStart(12)}${'median'.padStart(12)}\n`);
  for (const [name, r] of [
    ['raw thresholds (before)', figures.rowsPerSecond.rawThresholds],
    ['bin space, 1 thread (scoreTable)', figures.rowsPerSecond.binned],
    [`bin space, ${THREADS} threads (parallel)`, figures.rowsPerSecond.binnedParallel],
    [`xgboost ${xgb.version} predict, ${THREADS} threads`, figures.rowsPerSecond.xgboostPredict],
  ] as const) {
    process.stdout.write(`${name.padEnd(34)}${fmt(r.best)}${fmt(r.median)}\n`);
  }
  process.stdout.write(
    `median ratios: bin space / raw ${figures.ratios.binnedVsRawMedian.toFixed(2)}, ` +
      `parallel / xgboost ${figures.ratios.parallelVsXgboostMedian.toFixed(2)}; ` +
      `load average ${figures.loadAverage.map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores\n`,
  );
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', 'model-scoring.json'), `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write('figures written to bench/results/model-scoring.json\n');
}

const IDENTITY = { method: 'identity' as const, a: 1, b: 0 };
if (SCORING_ONLY) await scoringOnly();
else await fullBenchmark();
