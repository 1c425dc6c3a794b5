/**
 * `churnwatch profile` (issue 18, part 2): a labelled reference CSV with another model's scores (and
 * decisions) becomes a model-less artifact: schema without the score columns, reference profile,
 * threshold, validation metrics of the external scores, drift thresholds. `serve` on it is a pure
 * monitor: /log, /feedback, /model, /metrics and /dashboard work, /predict answers 409, `predict` and a
 * reload to a scoring model are refused. Real CSV reading, real SQLite, a real server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { runPredict } from '../../src/cli/commands/predict.js';
import { type ProfileResult, resolveProfileOptions, runProfile } from '../../src/cli/commands/profile.js';
import { type RunningServer, runServe } from '../../src/cli/commands/serve.js';
import { loadModel, loadModelArtifact } from '../../src/model/model-io.js';
import { openStore } from '../../src/store/open-store.js';
import { scoredCsv } from '../helpers/external-scores.js';
import { type GenericData, generateGenericData } from '../helpers/generic-data.js';
import { runCli } from '../helpers/run-cli.js';
import { buildTestApp } from '../helpers/server-harness.js';
import { trainGenericModel } from '../helpers/train-generic-model.js';

const quiet = pino({ level: 'silent' });

const profileOptions = (data: string, models: string, extra: Record<string, string> = {}) =>
  resolveProfileOptions(
    {
      data,
      target: 'Churn',
      score: 'proba',
      prediction: 'pred',
      models,
      windowSize: '200',
      quiet: true,
      ...extra,
    },
    {},
  );

describe('churnwatch profile', () => {
  let dir: string;
  let data: GenericData;
  let csv: string;
  let result: ProfileResult;
  let server: RunningServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'churnwatch-profile-'));
    data = generateGenericData({ rows: 1500, numeric: 5, categorical: 3, seed: 5 });
    csv = join(dir, 'reference.csv');
    await writeFile(csv, scoredCsv(data));
    result = await runProfile({ ...profileOptions(csv, join(dir, 'models')), logger: quiet });
    server = await runServe({
      port: '0',
      host: '127.0.0.1',
      modelPath: join(dir, 'models', 'latest'),
      storeUrl: `sqlite:${join(dir, 'predictions.db')}`,
      logLevel: 'warn',
      env: {},
    });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a model-less artifact: schema without the score columns, threshold from the decisions, metrics, profile', async () => {
    const names = result.schema.features.map((f) => f.name);
    assert.deepEqual(
      names,
      data.schema.features.map((f) => f.name),
    );
    assert.equal(result.schema.id, 'customerID');
    assert.ok(!result.schema.dropped.some((d) => d.column === 'proba' || d.column === 'pred'));
    const m = result.metadata;
    assert.equal(m.source, 'profile');
    assert.deepEqual(m.columns, { score: 'proba', prediction: 'pred' });
    assert.equal(m.thresholdRule, 'agrees-with-prediction-column');
    assert.equal(m.predictionDisagreements, 0);
    assert.ok(m.threshold >= 0.4 && m.threshold < 0.41, `threshold ${m.threshold}`);
    assert.ok(m.validation.rocAuc > 0.6, `ROC AUC ${m.validation.rocAuc}`);
    assert.equal(m.rows.profile + m.rows.heldOut, 1500);
    const model = JSON.parse(await readFile(join(result.dir, 'model.json'), 'utf8')) as { format: string };
    assert.equal(model.format, 'monitor-only');
    const { model: loaded } = await loadModelArtifact(join(dir, 'models', 'latest'));
    assert.equal(loaded.monitorOnly, true);
    assert.equal(loaded.info.version, result.version);
    assert.ok(loaded.profile.thresholds, 'calibrated drift thresholds');
    assert.equal(loaded.profile.thresholds.windowSize, 200);
    assert.deepEqual(Object.keys(loaded.profile.features), names);
    assert.throws(() => loaded.scoreRecord({}), { code: 'CW_MODEL_NO_SCORER' });
  });

  it("fits CBPE's calibration on every reference row, so `report` on the same file fits the same one", async () => {
    const { model: loaded } = await loadModelArtifact(join(dir, 'models', 'latest'));
    const stored = loaded.profile.cbpe;
    assert.ok(stored, 'the profile holds a CBPE calibration');
    assert.equal(stored.rows, 1500);
    const json = join(dir, 'report.json');
    const cli = await runCli([
      'report',
      '--reference',
      csv,
      '--current',
      csv,
      '--target',
      'Churn',
      '--score',
      'proba',
      '--prediction',
      'pred',
      '--json',
      json,
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const report = JSON.parse(await readFile(json, 'utf8')) as {
      performance: { cbpe: Record<string, unknown> };
    };
    const { thresholds: _map, ...choice } = stored;
    assert.deepEqual(report.performance.cbpe, choice);
  });

  it('a given --threshold wins; a score outside [0, 1] is refused naming row and column', async () => {
    const given = await runProfile({
      ...profileOptions(csv, join(dir, 'models-t'), { threshold: '0.5' }),
      logger: quiet,
    });
    assert.equal(given.metadata.threshold, 0.5);
    assert.equal(given.metadata.thresholdRule, 'given');
    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      scoredCsv(data, (p, row) => (row === 7 ? '1.5' : p)),
    );
    await assert.rejects(runProfile({ ...profileOptions(bad, join(dir, 'models-bad')), logger: quiet }), {
      code: 'CW_MODEL_PROFILE_SCORES',
      message: /bad\.csv: data row 7, column proba: 1\.5 is not a probability in \[0, 1\]/,
    });
    assert.throws(() => resolveProfileOptions({ data: csv, target: 'Churn' }, {}), {
      code: 'CW_MODEL_PROFILE_BAD_OPTION',
      message: /no --score column given/,
    });
  });

  it('serves as a pure monitor: /predict refused with 409, /log, /feedback, /model, /metrics, /dashboard work', async () => {
    const post = (path: string, body: object) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const record = { customerID: data.ids[3], ...data.records[3] };
    const refused = await post('/predict', record);
    assert.equal(refused.status, 409);
    const body = (await refused.json()) as { code: string; message: string };
    assert.equal(body.code, 'CW_PREDICT_NO_SCORER');
    assert.match(body.message, /monitors a model that lives elsewhere; send its predictions to POST \/log/);
    const logged = await post('/log', { ...record, score: 0.7, prediction_id: 'p-3' });
    assert.equal(logged.status, 200, await logged.clone().text());
    const feedback = await post('/feedback', { prediction_id: 'p-3', churn: 1 });
    assert.equal(((await feedback.json()) as { status: string }).status, 'joined');
    const model = (await (await fetch(`${server.url}/model`)).json()) as {
      version: string;
      threshold: number;
    };
    assert.equal(model.version, result.version);
    assert.equal(model.threshold, result.metadata.threshold);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /churnwatch_predictions_total\{model_version="[^"]+",predicted_class="1"\} 1/);
    assert.match(metrics, /churnwatch_realized_confusion_total\{[^}]*outcome="tp"\} 1/);
    assert.equal((await fetch(`${server.url}/dashboard`)).status, 200);
  });

  it('`predict` refuses the artifact, and a scoring server refuses to reload to it', async () => {
    await assert.rejects(
      runPredict({ model: join(dir, 'models', 'latest'), input: csv, output: join(dir, 'out.csv') }),
      { code: 'CW_MODEL_NO_SCORER', message: /cannot score/ },
    );
    const trained = await trainGenericModel(join(dir, 'trained'), {
      rows: 600,
      numeric: 5,
      categorical: 3,
      seed: 5,
      trees: 5,
    });
    const store = openStore(`sqlite:${join(dir, 'reload.db')}`);
    await store.migrate();
    const app = await buildTestApp({
      store,
      model: await loadModel(trained.modelDir),
      loadModel,
      config: { adminToken: 'token' },
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/admin/reload',
        headers: { authorization: 'Bearer token' },
        payload: { path: result.dir },
      });
      assert.equal(res.statusCode, 409, res.body);
      assert.equal((res.json() as { code: string }).code, 'CW_ADMIN_RELOAD_KIND_CHANGED');
    } finally {
      await app.close();
      await store.close();
    }
  });
});
