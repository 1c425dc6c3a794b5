/**
 * Held-out ROC AUC on the real Telco customer-churn table (../shared/data/telco): a fixed seeded 80/20
 * split (test/helpers/seeded-split.ts, the same as test/integration/train-telco.test.ts) written to two
 * temp CSVs; churnwatch's GBDT trained by `runTrain` with default parameters and the flags a user gives
 * (`--target Churn --positive-label Yes --id customerID`), against scikit-learn's
 * HistGradientBoostingClassifier with default parameters, categorical features ordinal-encoded and passed
 * as categorical_features (bench/sklearn_hgb_baseline.py, run by /usr/bin/python3: Debian's python has
 * sklearn, the pyenv python3 on PATH does not). Goal: ours ≥ theirs − 0.01.
 * Run: node --import tsx bench/telco-auc.bench.ts (or npm run bench -- telco).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { resolveTrainOptions, runTrain } from '../src/cli/commands/train.js';
import { readCsvTable } from '../src/data/csv-reader.js';
import { loadModelArtifact } from '../src/model/model-io.js';
import { rocAuc } from '../src/stats/classification.js';
import { TELCO_SPLIT, writeSeededSplit } from '../test/helpers/seeded-split.js';
import { telcoPath } from '../test/helpers/shared-files.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const GOAL_MARGIN = 0.01;

async function main(): Promise<void> {
  const telco = telcoPath();
  if (!telco) throw new Error('shared/data/telco/telco-customer-churn.csv is not beside this checkout');
  const dir = mkdtempSync(join(tmpdir(), 'churnwatch-telco-bench-'));
  try {
    const train = join(dir, 'train.csv');
    const holdout = join(dir, 'holdout.csv');
    const split = writeSeededSplit(telco, train, holdout);

    const t0 = performance.now();
    const result = await runTrain({
      ...resolveTrainOptions(
        {
          data: train,
          target: 'Churn',
          positiveLabel: 'Yes',
          id: 'customerID',
          models: join(dir, 'models'),
          quiet: true,
        },
        {},
      ),
      logger: pino({ level: 'silent' }),
    });
    const oursSeconds = (performance.now() - t0) / 1000;
    const { model } = await loadModelArtifact(result.dir);
    const { table } = await readCsvTable(holdout, { schema: model.schema });
    const ours = rocAuc(table.target!, model.scoreTable(table));

    const spec = {
      train,
      holdout,
      features: model.schema.features.map((f) => ({ name: f.name, kind: f.kind })),
      missingTokens: model.schema.missingTokens,
      target: model.schema.target.column,
      positive: model.schema.target.positive,
    };
    const python = spawnSync(
      '/usr/bin/python3',
      [join(benchDir, 'sklearn_hgb_baseline.py'), JSON.stringify(spec)],
      {
        encoding: 'utf8',
        // Two OpenMP threads for the two cores: more only contend.
        env: { ...process.env, OMP_NUM_THREADS: '2' },
      },
    );
    if (python.status !== 0) throw new Error(`the sklearn baseline failed: ${python.stderr}`);
    const theirs = JSON.parse(python.stdout.trim().split('\n').at(-1)!) as {
      rocAuc: number;
      trainSeconds: number;
      iterations: number;
    };

    const difference = ours - theirs.rocAuc;
    const met = difference >= -GOAL_MARGIN;
    const lines = [
      `Telco held-out ROC AUC, seeded ${TELCO_SPLIT.trainShare * 100}/${100 - TELCO_SPLIT.trainShare * 100} split (seed ${TELCO_SPLIT.seed}): ${split.train} training rows, ${split.holdout} held out`,
      `  churnwatch GBDT (defaults)        ${ours.toFixed(4)}  (${result.metadata.trees} trees, ${oursSeconds.toFixed(1)} s incl. reading and profiling)`,
      `  sklearn HistGradientBoosting      ${theirs.rocAuc.toFixed(4)}  (${theirs.iterations} iterations, ${theirs.trainSeconds.toFixed(1)} s fit)`,
      `  difference (ours − theirs)        ${difference >= 0 ? '+' : ''}${difference.toFixed(4)}  goal ≥ −${GOAL_MARGIN}: ${met ? 'met' : 'NOT met'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    mkdirSync(join(benchDir, 'results'), { recursive: true });
    writeFileSync(
      join(benchDir, 'results', 'telco-auc.json'),
      `${JSON.stringify({ split, ours: { rocAuc: ours, trees: result.metadata.trees, seconds: oursSeconds }, sklearn: theirs, difference, met }, null, 2)}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
