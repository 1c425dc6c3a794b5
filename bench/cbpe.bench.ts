/**
 * CBPE accuracy: estimated vs realized accuracy per chunk, mean absolute error next to the sampling
 * standard error of realized accuracy sqrt(acc(1 − acc)/n), with the scores as they are and through an
 * isotonic map fitted on the reference, plus the calibration NannyML's rule chooses (cbpe-calibration.ts).
 * (i) churnwatch's GBDT on Expresso synthetic data (`churnwatch data generate`: 60k rows to train,
 *     20k held out, chunks of 1,000); the reference is a fresh 12k labelled sample of the generator (the
 *     artifact's own choice, made by `train` on its validation rows, is printed beside it).
 * (ii) scikit-learn LogisticRegression scores on the real Telco table (bench/telco_logreg_scores.py,
 *     /usr/bin/python3), reference and analysis halves of the rows it was not fitted on, chunks of 500.
 * (iii) the same scores squared (miscalibrated; threshold 0.25 keeps the model's classes).
 * Run: node --import tsx bench/cbpe.bench.ts (or npm run bench -- cbpe). Figures: bench/results/cbpe.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { resolveTrainOptions, runTrain } from '../src/cli/commands/train.js';
import { readCsvTable } from '../src/data/csv-reader.js';
import { writeSyntheticCsv } from '../src/data/synthetic.js';
import { loadModel } from '../src/model/model-io.js';
import { estimatePerformance } from '../src/stats/cbpe.js';
import { type CbpeCalibration, cbpeCalibrator, fitCbpeCalibration } from '../src/stats/cbpe-calibration.js';
import { classRates, confusionAt } from '../src/stats/classification.js';
import { fitIsotonic, isotonicMap } from '../src/stats/isotonic.js';
import { telcoPath } from '../test/helpers/shared-files.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

interface Scored {
  readonly scores: Float64Array;
  readonly labels: Uint8Array;
}

interface Row {
  readonly case: string;
  readonly chunks: number;
  readonly chunkRows: number;
  readonly choice: string;
  readonly maeRaw: number;
  readonly maeIsotonic: number;
  readonly maeChosen: number;
  readonly samplingSe: number;
}

/** Per-chunk |estimated − realized| accuracy, averaged, for one calibration (undefined = raw scores). */
function mae(analysis: Scored, threshold: number, chunk: number, calibrate?: (s: number) => number) {
  let error = 0;
  let se = 0;
  let chunks = 0;
  for (let from = 0; from + chunk <= analysis.scores.length; from += chunk, chunks++) {
    const s = analysis.scores.subarray(from, from + chunk);
    const realized = classRates(
      confusionAt(analysis.labels.subarray(from, from + chunk), s, threshold),
    ).accuracy;
    error += Math.abs(estimatePerformance(s, threshold, calibrate).accuracy - realized);
    se += Math.sqrt((realized * (1 - realized)) / chunk);
  }
  return { mae: error / chunks, se: se / chunks, chunks };
}

function evaluate(name: string, reference: Scored, analysis: Scored, threshold: number, chunk: number): Row {
  const chosen: CbpeCalibration = fitCbpeCalibration(reference.scores, reference.labels);
  const isotonic = isotonicMap(fitIsotonic(reference.scores, reference.labels)).apply;
  const raw = mae(analysis, threshold, chunk);
  return {
    case: name,
    chunks: raw.chunks,
    chunkRows: chunk,
    choice: `${chosen.method} (ECE ${chosen.eceBefore?.toFixed(4) ?? '-'} → ${chosen.eceAfter?.toFixed(4) ?? '-'})`,
    maeRaw: raw.mae,
    maeIsotonic: mae(analysis, threshold, chunk, isotonic).mae,
    maeChosen: mae(analysis, threshold, chunk, cbpeCalibrator(chosen)).mae,
    samplingSe: raw.se,
  };
}

async function expresso(dir: string): Promise<Row> {
  await writeSyntheticCsv(join(dir, 'train.csv'), { rows: 60_000, seed: 21 });
  await writeSyntheticCsv(join(dir, 'heldout.csv'), { rows: 20_000, seed: 22 });
  const trained = await runTrain({
    ...resolveTrainOptions({ data: join(dir, 'train.csv'), models: join(dir, 'models'), quiet: true }, {}),
    logger: pino({ level: 'silent' }),
  });
  const model = await loadModel(trained.dir);
  const { table } = await readCsvTable(join(dir, 'heldout.csv'));
  const analysis = { scores: model.scoreTable(table), labels: Uint8Array.from(table.target!) };
  await writeSyntheticCsv(join(dir, 'reference.csv'), { rows: 12_000, seed: 23 });
  const ref = (await readCsvTable(join(dir, 'reference.csv'))).table;
  const reference = { scores: model.scoreTable(ref), labels: Uint8Array.from(ref.target!) };
  const row = evaluate('GBDT, Expresso synthetic', reference, analysis, model.info.threshold, 1000);
  return { ...row, choice: `${row.choice}; train chose ${model.profile.cbpe?.method ?? 'n/a'}` };
}

function telco(squared: boolean): Row {
  const path = telcoPath();
  if (!path) throw new Error('shared/data/telco is not beside this checkout');
  const python = spawnSync('/usr/bin/python3', [join(benchDir, 'telco_logreg_scores.py'), path], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '2' },
  });
  if (python.status !== 0) throw new Error(`the logistic-regression script failed: ${python.stderr}`);
  const parts: Record<string, { s: number[]; y: number[] }> = {
    reference: { s: [], y: [] },
    analysis: { s: [], y: [] },
  };
  for (const line of python.stdout.trim().split('\n').slice(1)) {
    const [part, score, label] = line.split(',');
    const p = Number(score);
    parts[part!]!.s.push(squared ? p * p : p);
    parts[part!]!.y.push(Number(label));
  }
  const scored = (k: string): Scored => ({
    scores: Float64Array.from(parts[k]!.s),
    labels: Uint8Array.from(parts[k]!.y),
  });
  return evaluate(
    squared ? 'LogisticRegression on Telco, scores squared' : 'LogisticRegression on Telco',
    scored('reference'),
    scored('analysis'),
    squared ? 0.25 : 0.5,
    500,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'churnwatch-cbpe-bench-'));
try {
  const rows = [await expresso(dir), telco(false), telco(true)];
  console.table(
    Object.fromEntries(
      rows.map((r) => [
        r.case,
        {
          chunks: `${r.chunks} × ${r.chunkRows}`,
          'MAE raw': r.maeRaw.toFixed(4),
          'MAE isotonic': r.maeIsotonic.toFixed(4),
          'MAE chosen': r.maeChosen.toFixed(4),
          'sampling SE': r.samplingSe.toFixed(4),
          choice: r.choice,
        },
      ]),
    ),
  );
  mkdirSync(join(benchDir, 'results'), { recursive: true });
  writeFileSync(join(benchDir, 'results', 'cbpe.json'), `${JSON.stringify({ rows }, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
