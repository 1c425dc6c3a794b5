/**
 * Imported XGBoost booster against churnwatch's own GBDT of the same size, scoring the same rows.
 * Data: the generated non-Expresso table of test/helpers/generic-data.ts (5 numeric with ~5 % missing,
 * 2 categorical features), the first --train-rows rows (default 50,000) train both models (our
 * trainChurnModel, and xgboost 1.7 hist through bench/xgboost_import_booster.py with /usr/bin/python3),
 * 100 trees of depth 6 each, no early stopping. Then, alternating the two models, --repeats times
 * (default 5): scoreRecord over --record-rows records (default 20,000) one call each, scoreRecords over
 * them in batches of 1,000, and scoreTable over --rows rows (default 200,000); then our forest's raw-threshold
 * walk (referenceTableMargins) over the table, the imported scorer's like. Best and median rows/s
 * are printed and written to bench/results/xgboost-import.json. Single thread throughout.
 * Run: node --import tsx bench/xgboost-import.bench.ts [--rows N] [--train-rows N] [--repeats N]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawFeatures } from '../src/data/feature-types.js';
import type { ChurnModel, ModelInfo } from '../src/model/churn-model.js';
import { DEFAULT_GBDT_PARAMS } from '../src/model/gbdt.js';
import { createGbdtChurnModel, referenceTableMargins } from '../src/model/gbdt-churn-model.js';
import { takeRows } from '../src/model/table-rows.js';
import { trainChurnModel } from '../src/model/train-churn-model.js';
import { importXgboostModel } from '../src/model/xgboost/import-xgboost.js';
import { createXgboostChurnModel } from '../src/model/xgboost/xgboost-churn-model.js';
import { parseXgboostJsonText, readXgboostBooster } from '../src/model/xgboost/xgboost-json.js';
import { generateGenericData, genericCsvText, genericTable } from '../test/helpers/generic-data.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('rows', 200_000);
const TRAIN_ROWS = arg('train-rows', 50_000);
const RECORD_ROWS = arg('record-rows', 20_000);
const REPEATS = arg('repeats', 5);
const TREES = 100;
const DEPTH = 6;
const BATCH = 1000;

const data = generateGenericData({ rows: ROWS, numeric: 5, categorical: 2, seed: 11 });
const table = genericTable(data);
const trainTable = takeRows(
  table,
  Array.from({ length: TRAIN_ROWS }, (_, i) => i),
);
const records = data.records.slice(0, RECORD_ROWS);

process.stdout.write(`training our GBDT (${TREES} trees, depth ${DEPTH}) on ${TRAIN_ROWS} rows…\n`);
const trained = await trainChurnModel(trainTable, {
  params: {
    ...DEFAULT_GBDT_PARAMS,
    trees: TREES,
    maxDepth: DEPTH,
    maxLeaves: 2 ** DEPTH,
    earlyStoppingRounds: 0,
    threads: Math.min(2, availableParallelism()),
  },
  validationShare: 0.2,
  features: data.schema.features,
});
const info = {} as ModelInfo;
const ours = createGbdtChurnModel(trained.parts, info, trained.profile, data.schema);

process.stdout.write(`training xgboost (${TREES} trees, depth ${DEPTH}) on the same rows…\n`);
const tmp = mkdtempSync(join(tmpdir(), 'churnwatch-xgb-bench-'));
const boosterFile = join(tmp, 'model.json');
let boosterText: string;
let xgboostVersion: string;
try {
  const csvPath = join(tmp, 'train.csv');
  writeFileSync(
    csvPath,
    genericCsvText({
      ...data,
      ids: data.ids.slice(0, TRAIN_ROWS),
      records: data.records.slice(0, TRAIN_ROWS),
      labels: data.labels.slice(0, TRAIN_ROWS),
    }),
  );
  const features = data.schema.features;
  const spec = {
    csv: csvPath,
    out: boosterFile,
    numeric: features.filter((f) => f.kind === 'numeric').map((f) => f.name),
    categorical: features.filter((f) => f.kind === 'categorical').map((f) => f.name),
    target: data.schema.target.column,
    positive: data.schema.target.positive,
    trees: TREES,
    depth: DEPTH,
    eta: 0.1,
  };
  const py = spawnSync(
    '/usr/bin/python3',
    [join(benchDir, 'xgboost_import_booster.py'), JSON.stringify(spec)],
    {
      encoding: 'utf8',
    },
  );
  if (py.status !== 0)
    throw new Error(`xgboost training failed (needs /usr/bin/python3 with xgboost):\n${py.stderr}`);
  boosterText = readFileSync(boosterFile, 'utf8');
  xgboostVersion = (JSON.parse(py.stdout.trim().split('\n').pop()!) as { xgboost: string }).xgboost;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const booster = readXgboostBooster(parseXgboostJsonText(boosterText, boosterFile), boosterFile);
const imported = importXgboostModel(booster, boosterFile, trainTable, data.schema, { windowSize: 1000 });
const theirs = createXgboostChurnModel(
  imported.forest,
  imported.binding,
  info,
  imported.profile,
  data.schema,
);
const nodes = (count: number) => count.toLocaleString('en');
process.stdout.write(
  `our forest: ${trained.trees} trees, ${nodes(trained.parts.forest.feature.length)} nodes; ` +
    `imported: ${booster.trees.length} trees, ${nodes(imported.forest.column.length)} nodes\n`,
);

type Way = 'scoreRecord' | 'scoreRecords' | 'scoreTable';
const ways: Record<Way, (model: ChurnModel) => number> = {
  scoreRecord(model) {
    let sink = 0;
    for (const r of records) sink += model.scoreRecord(r as RawFeatures);
    if (Number.isNaN(sink)) throw new Error('NaN score');
    return records.length;
  },
  scoreRecords(model) {
    for (let i = 0; i < records.length; i += BATCH) model.scoreRecords(records.slice(i, i + BATCH));
    return records.length;
  },
  scoreTable(model) {
    return model.scoreTable(table).length;
  },
};
const runs: Record<string, Record<Way, number[]>> = {
  ours: { scoreRecord: [], scoreRecords: [], scoreTable: [] },
  imported: { scoreRecord: [], scoreRecords: [], scoreTable: [] },
};
for (const [, model] of [
  ['ours', ours],
  ['imported', theirs],
] as const)
  for (const way of Object.keys(ways) as Way[]) ways[way](model); // warm-up
for (let r = 0; r < REPEATS; r++) {
  for (const way of Object.keys(ways) as Way[]) {
    // Alternate which model goes first, so drift in machine load hits both alike.
    const order = r % 2 === 0 ? (['ours', 'imported'] as const) : (['imported', 'ours'] as const);
    for (const name of order) {
      const model = name === 'ours' ? ours : theirs;
      const t0 = performance.now();
      const n = ways[way](model);
      runs[name]![way].push(n / ((performance.now() - t0) / 1000));
    }
  }
}
// Our forest's raw-threshold tree walk (compiled-forest.ts), the same kind of scorer as the imported
// model's; scoreTable above uses the bin-space scorer (binned-scoring.ts), which only our models have.
const rawWalk: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  const t0 = performance.now();
  referenceTableMargins(trained.parts, table);
  rawWalk.push(table.rowCount / ((performance.now() - t0) / 1000));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const best = (xs: number[]) => Math.max(...xs);
const fmt = (x: number) => Math.round(x).toLocaleString('en').padStart(12);
process.stdout.write(`\nrows/s, ${REPEATS} runs each (best, median); one thread\n`);
for (const way of Object.keys(ways) as Way[]) {
  for (const name of ['ours', 'imported'] as const) {
    const xs = runs[name]![way];
    process.stdout.write(`${`${way} ${name}`.padEnd(26)}${fmt(best(xs))}${fmt(median(xs))}\n`);
  }
  process.stdout.write(
    `${`${way} imported / ours`.padEnd(26)}${(median(runs.imported![way]) / median(runs.ours![way])).toFixed(2).padStart(24)}\n`,
  );
}
process.stdout.write(
  `${'scoreTable ours, raw walk'.padEnd(26)}${fmt(best(rawWalk))}${fmt(median(rawWalk))}\n` +
    `${'imported / ours raw walk'.padEnd(26)}${(median(runs.imported!.scoreTable) / median(rawWalk)).toFixed(2).padStart(24)}\n`,
);
const figures = {
  rows: { table: ROWS, records: RECORD_ROWS, train: TRAIN_ROWS, batch: BATCH },
  trees: { ours: trained.trees, imported: booster.trees.length, depth: DEPTH },
  nodes: { ours: trained.parts.forest.feature.length, imported: imported.forest.column.length },
  xgboostVersion,
  repeats: REPEATS,
  loadAverage: loadavg(),
  rowsPerSecond: { ...runs, oursRawWalkTable: rawWalk },
  medianRatioImportedVsOurs: Object.fromEntries(
    (Object.keys(ways) as Way[]).map((w) => [w, median(runs.imported![w]) / median(runs.ours![w])]),
  ),
};
mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(join(benchDir, 'results', 'xgboost-import.json'), `${JSON.stringify(figures, null, 2)}\n`);
process.stdout.write('figures written to bench/results/xgboost-import.json\n');
