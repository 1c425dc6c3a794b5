import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { runPredict } from '../../src/cli/commands/predict.js';
import { resolveTrainOptions, runTrain, type TrainOptions } from '../../src/cli/commands/train.js';
import { readCsvTable } from '../../src/data/csv-reader.js';
import { EXPRESSO_SCHEMA, serializeDatasetSchema } from '../../src/data/dataset-schema.js';
import { writeSyntheticCsv } from '../../src/data/synthetic.js';
import { TRAINING_PUSH_JOB } from '../../src/metrics/catalogue.js';
import { loadModelArtifact } from '../../src/model/model-io.js';
import { rocAuc } from '../../src/stats/classification.js';
import { freePort } from '../helpers/free-port.js';
import { startPushgateway } from '../helpers/pushgateway.js';

const silent = pino({ level: 'silent' });

function options(dir: string, overrides: Partial<TrainOptions> = {}): TrainOptions {
  const base = resolveTrainOptions(
    {
      data: join(dir, 'train.csv'),
      models: join(dir, 'models'),
      trees: '40',
      quiet: true,
      windowSize: '500',
    },
    {},
  );
  return { ...base, logger: silent, ...overrides };
}

describe('churnwatch train', () => {
  // One generated file for every test here (generation is the slow part); removed at the end.
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'churnwatch-train-'));
    await writeSyntheticCsv(join(dir, 'train.csv'), { rows: 12_000, seed: 11 });
    await writeSyntheticCsv(join(dir, 'holdout.csv'), { rows: 3_000, seed: 12, idPrefix: 'ff' });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes an artifact that loads and scores like the trained model, and pushes its metrics', async (t) => {
    const gateway = await startPushgateway(t);
    if (!gateway) return;
    t.after(() => gateway.stop());
    const result = await runTrain(options(dir, { pushgatewayUrl: gateway.url, requirePush: true }));

    assert.match(result.version, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.deepEqual((await readdir(result.dir)).sort(), [
      'manifest.json',
      'metadata.json',
      'model.json',
      'profile.json',
      'schema.json',
    ]);
    // An Expresso file without schema flags is trained with EXPRESSO_SCHEMA exactly.
    assert.equal(
      await readFile(join(result.dir, 'schema.json'), 'utf8'),
      serializeDatasetSchema(EXPRESSO_SCHEMA),
    );
    assert.ok((await lstat(join(dir, 'models', 'latest'))).isSymbolicLink());
    assert.equal(await readlink(join(dir, 'models', 'latest')), result.version);
    assert.deepEqual(result.push, { url: gateway.url, ok: true });
    assert.ok(result.driftThresholds, 'drift thresholds calibrated on the validation slice');

    const meta = result.metadata;
    assert.equal(meta.rows.train + meta.rows.validation, 12_000);
    assert.equal(meta.data.rows, 12_000);
    assert.match(meta.data.sha256, /^[0-9a-f]{64}$/);
    assert.ok(meta.validation.rocAuc > 0.85, `validation AUC ${meta.validation.rocAuc}`);
    assert.equal(meta.validation.rows, meta.rows.validation);
    const c = meta.validation.confusion;
    assert.equal(c.tp + c.fp + c.tn + c.fn, meta.rows.validation);
    assert.ok(Math.abs(meta.validation.f1 - (2 * c.tp) / (2 * c.tp + c.fp + c.fn)) < 1e-12);

    const { model } = await loadModelArtifact(join(dir, 'models', 'latest'));
    assert.equal(model.info.version, result.version);
    assert.equal(model.info.thresholdRule, 'max-f1-on-validation');
    const { table } = await readCsvTable(join(dir, 'holdout.csv'));
    const scores = model.scoreTable(table);
    const auc = rocAuc(table.target!, scores);
    assert.ok(auc > 0.85, `held-out AUC ${auc}`);
    assert.ok(model.profile.thresholds && model.profile.thresholds.windowSize === 500);
    assert.equal(Object.keys(model.profile.features).length, 17);

    // The Pushgateway holds the training series under job + model_version, with the profile's bins.
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    const series = (name: string) =>
      text
        .split('\n')
        .filter(
          (l) =>
            l.startsWith(`${name}{`) &&
            l.includes(`job="${TRAINING_PUSH_JOB}"`) &&
            l.includes(`model_version="${result.version}"`),
        );
    const value = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));
    const classes = series('churnwatch_training_class_rows');
    assert.equal(classes.length, 2);
    // Expresso's labels are 1 and 0, as the class label always was.
    assert.deepEqual(classes.map((l) => /class="([^"]*)"/.exec(l)?.[1]).sort(), ['0', '1']);
    assert.equal(
      classes.reduce((s, l) => s + value(l), 0),
      meta.rows.train,
    );
    const montant = series('churnwatch_training_feature_values').filter((l) =>
      l.includes('feature="MONTANT"'),
    );
    assert.equal(montant.length, model.profile.features.MONTANT!.labels.length);
    assert.equal(
      montant.reduce((s, l) => s + value(l), 0),
      meta.rows.train,
    );
    assert.ok(montant.some((l) => l.includes('bin="missing"')));
    assert.equal(
      series('churnwatch_training_score_values').reduce((s, l) => s + value(l), 0),
      meta.rows.train,
    );
    const auLine = series('churnwatch_training_validation_metric').find((l) =>
      l.includes('metric="roc_auc"'),
    );
    assert.ok(auLine && Math.abs(value(auLine) - meta.validation.rocAuc) < 1e-9);
    assert.equal(series('churnwatch_training_rows').length, 2);
    assert.equal(series('churnwatch_training_duration_seconds').length, 1);
    assert.equal(series('churnwatch_training_last_success_timestamp_seconds').length, 1);

    // predict streams one line per input row with the same scores.
    const out = join(dir, 'predictions.csv');
    const predicted = await runPredict({
      model: join(dir, 'models', 'latest'),
      input: join(dir, 'holdout.csv'),
      output: out,
    });
    assert.equal(predicted.rows, 3_000);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    assert.equal(lines[0], 'user_id,churn_probability,churn');
    assert.equal(lines.length, 3_001);
    const [id, p, churn] = lines[1]!.split(',');
    assert.equal(id, table.ids![0]);
    assert.equal(Number(p), Number(scores[0]!.toPrecision(6)));
    assert.equal(Number(churn), scores[0]! >= model.info.threshold ? 1 : 0);
    assert.equal(lines.slice(1).filter((l) => l.endsWith(',1')).length, predicted.predictedChurners);
  });

  it('is deterministic for a seed: same version hash, same trees', async () => {
    const few = { ...options(dir).params, trees: 15 };
    const a = await runTrain(options(dir, { modelsDir: join(dir, 'models-a'), params: few }));
    const b = await runTrain(
      options(dir, { modelsDir: join(dir, 'models-b'), params: { ...few, threads: 1 } }),
    );
    assert.equal(a.version.split('-')[1], b.version.split('-')[1]);
    const modelA = await readFile(join(a.dir, 'model.json'), 'utf8');
    const modelB = await readFile(join(b.dir, 'model.json'), 'utf8');
    assert.equal(modelA, modelB);
  });

  it('still saves the model when the Pushgateway is unreachable, and fails only with --require-push', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const params = { ...options(dir).params, trees: 10 };
    const soft = await runTrain(
      options(dir, { modelsDir: join(dir, 'models-soft'), pushgatewayUrl: url, params }),
    );
    assert.equal(soft.push?.ok, false);
    assert.ok(soft.push?.error);
    await assert.rejects(
      runTrain(
        options(dir, { modelsDir: join(dir, 'models-hard'), pushgatewayUrl: url, requirePush: true, params }),
      ),
      (error: Error & { code?: string }) =>
        error.code === 'CW_TRAIN_PUSH_FAILED' && error.message.includes('was saved'),
    );
    assert.ok((await lstat(join(dir, 'models-hard', 'latest'))).isSymbolicLink());
  });

  it('rejects bad options and unlabelled data with clear errors', async () => {
    assert.throws(
      () => resolveTrainOptions({ data: 'x.csv', depth: 'deep' }, {}),
      (e: Error & { code?: string }) => e.code === 'CW_TRAIN_BAD_OPTION' && /--depth/.test(e.message),
    );
    assert.throws(
      () => resolveTrainOptions({ data: 'x.csv', subsample: '1.5' }, {}),
      (e: Error & { code?: string }) => e.code === 'CW_TRAIN_BAD_OPTION' && /subsample/.test(e.message),
    );
    assert.equal(
      resolveTrainOptions({}, { CHURNWATCH_DATA: 'y.csv', CHURNWATCH_TREES: '7' }).params.trees,
      7,
    );
    assert.equal(
      resolveTrainOptions({ data: 'x.csv', trees: '9' }, { CHURNWATCH_TREES: '7' }).params.trees,
      9,
    );
    await assert.rejects(
      runTrain(options(dir, { data: join(dir, 'holdout.csv'), rows: 50 })),
      (e: Error & { code?: string }) => e.code === 'CW_TRAIN_TOO_FEW_ROWS',
    );
  });
});
