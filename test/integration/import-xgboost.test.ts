/**
 * `churnwatch import xgboost` end to end, on the vendored fixtures (test/fixtures/xgboost/, xgboost
 * 1.7.4): through the CLI, each booster becomes an artifact that scores data.csv like xgboost's own
 * predict; the imported model is then served (real server, SQLite store) and scored by `predict` like a
 * native one; a refused booster and a booster feature the reference lacks give clear errors.
 * POST /predict with the model's own field names needs the server side of issue 17 (branch i17-server:
 * the request schema built from the model's schema); before it, the server takes Expresso's fields only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, runServe } from '../../src/cli/commands/serve.js';
import type { ColumnarTable } from '../../src/data/columnar-table.js';
import { loadModelArtifact } from '../../src/model/model-io.js';
import { predictThroughCli, runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import {
  BINARY_FIXTURES,
  type BinaryFixture,
  fixturePredictions,
  fixtureRecords,
  readXgboostFixtureTable,
  XGBOOST_FIXTURES,
  XGBOOST_SCHEMA,
} from '../helpers/xgboost-fixtures.js';

const DATA = join(XGBOOST_FIXTURES, 'data.csv');
const TOLERANCE = 1e-6;

/** `churnwatch import xgboost` of a fixture booster with `reference` into `models`; exit code and output. */
const importWith = (fixture: string, reference: string, models: string, ...extra: string[]) =>
  runCli([
    ...['import', 'xgboost', '--model', join(XGBOOST_FIXTURES, `${fixture}.json`)],
    ...['--reference', reference, '--models', models, '--window-size', '200', '--quiet', ...extra],
  ]);

/** The same with data.csv, the boosters' own data, as the reference. */
const importFixture = (fixture: string, models: string, ...extra: string[]) =>
  importWith(fixture, DATA, models, ...extra);

describe('churnwatch import xgboost', () => {
  let table: ColumnarTable;
  let predictions: Record<BinaryFixture, Float64Array>;
  before(async () => {
    table = await readXgboostFixtureTable();
    predictions = await fixturePredictions();
  });

  for (const name of BINARY_FIXTURES) {
    it(`${name}.json: imported through the CLI, the artifact scores every row of data.csv like xgboost`, async () => {
      await withTempDir(async (dir) => {
        const models = join(dir, 'models');
        const result = await importFixture(name, models, '--json');
        assert.equal(result.code, 0, result.stderr);
        const printed = JSON.parse(result.stdout);
        assert.equal(printed.metadata.source, 'xgboost');
        assert.equal(printed.driftWindowSize, 200);
        assert.deepEqual(printed.metadata.rows, { profile: 1500, heldOut: 500 });
        const { model } = await loadModelArtifact(join(models, 'latest'));
        assert.equal(model.info.version, printed.version);
        // The inferred schema is the fixtures' (categories listed as inference keeps them).
        assert.equal(model.schema.id, XGBOOST_SCHEMA.id);
        assert.deepEqual(model.schema.target, XGBOOST_SCHEMA.target);
        assert.deepEqual(
          model.schema.features.map((f) => [f.name, f.kind]),
          XGBOOST_SCHEMA.features.map((f) => [f.name, f.kind]),
        );
        const scores = model.scoreTable(table);
        for (let i = 0; i < table.rowCount; i++)
          assert.ok(
            Math.abs(scores[i]! - predictions[name][i]!) <= TOLERANCE,
            `row ${i}: ${scores[i]} vs xgboost ${predictions[name][i]}`,
          );
      });
    });
  }

  it('prints what train prints: version, directory, held-out metrics, threshold, drift thresholds', async () => {
    await withTempDir(async (dir) => {
      const result = await importFixture('deep', join(dir, 'models'), '--window-size', '1000');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^model \S+ imported to \S+models\/\S+\n/);
      assert.match(result.stdout, /xgboost 1\.7\.4 booster \S+deep\.json: 25 trees, 4 features/);
      assert.match(result.stdout, /1500 rows profiled, 500 held out \(25 %\)/);
      assert.match(
        result.stdout,
        /held-out ROC AUC 0\.\d{4}, log loss \d\.\d{4}, F1 0\.\d{4} at threshold 0\.\d{4}/,
      );
      assert.match(
        result.stdout,
        /drift thresholds: calibrated for windows of 500 rows \(all the held-out rows; --window-size 1000 asked\)/,
      );
    });
  });

  it('refuses a multiclass booster with the file and the objective named, exit code 1', async () => {
    await withTempDir(async (dir) => {
      const result = await importFixture('multiclass', join(dir, 'models'));
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /CW_MODEL_XGBOOST_OBJECTIVE: \S*multiclass\.json: objective "multi:softprob"/,
      );
      assert.equal(result.stdout, '');
    });
  });

  it('names a booster feature the reference CSV lacks', async () => {
    await withTempDir(async (dir) => {
      // data.csv without its Monthly-Charges column (the second feature): no quoted comma before it.
      const lines = (await readFile(DATA, 'utf8')).trimEnd().split('\n');
      const without = lines.map((line) => {
        const cells = line.split(',');
        return [...cells.slice(0, 2), ...cells.slice(3)].join(',');
      });
      const reference = join(dir, 'reference.csv');
      await writeFile(reference, `${without.join('\n')}\n`);
      const result = await importWith('deep', reference, join(dir, 'models'));
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /CW_MODEL_XGBOOST_FEATURES: \S*deep\.json: the booster's feature "Monthly-Charges" is not a column of \S*reference\.csv/,
      );
    });
  });

  it('says when the schema flags leave out a column the booster uses', async () => {
    await withTempDir(async (dir) => {
      const result = await importFixture('deep', join(dir, 'models'), '--ignore', '2024_spend');
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /CW_MODEL_XGBOOST_FEATURES: \S*deep\.json: the booster's feature "2024_spend" is not a feature of \S*data\.csv's schema: inference dropped the column \(ignored: named by --ignore\)/,
      );
      assert.match(result.stderr, /hint: leave "2024_spend" out of --ignore/);
    });
  });

  it('reports a booster feature the flags make the id or of the other kind, naming file and feature', async () => {
    await withTempDir(async (dir) => {
      const asId = await importFixture('categorical', join(dir, 'models'), '--id', 'Contract');
      assert.equal(asId.code, 1);
      assert.match(
        asId.stderr,
        /CW_MODEL_XGBOOST_FEATURES: \S*categorical\.json: the booster's feature "Contract" is not a feature of \S*data\.csv's schema: it is the id column \(named by --id\)/,
      );
      const asNumber = await importFixture('categorical', join(dir, 'models'), '--numeric', 'Contract');
      assert.equal(asNumber.code, 1);
      assert.match(
        asNumber.stderr,
        /CW_MODEL_XGBOOST_FEATURES: \S*categorical\.json: feature "Contract" is categorical in the booster \(type "c"\) but numeric in the schema/,
      );
    });
  });

  it("reads an integer-coded category as categorical, as the booster's feature types say", async () => {
    await withTempDir(async (dir) => {
      // Contract's values as the digits of their sorted order: the same pandas codes, but inference
      // alone would take the column for numbers.
      const codes = new Map([
        ['Month-to-month', '0'],
        ['One year', '1'],
        ['Two year', '2'],
      ]);
      const lines = (await readFile(DATA, 'utf8')).trimEnd().split('\n');
      const coded = lines.map((line, i) => {
        const cells = line.split(',');
        if (i > 0) cells[5] = codes.get(cells[5]!) ?? cells[5]!;
        return cells.join(',');
      });
      const reference = join(dir, 'coded.csv');
      await writeFile(reference, `${coded.join('\n')}\n`);
      const models = join(dir, 'models');
      const result = await importWith('categorical', reference, models);
      assert.equal(result.code, 0, result.stderr);
      const { model } = await loadModelArtifact(join(models, 'latest'));
      assert.equal(model.schema.features.find((f) => f.name === 'Contract')?.kind, 'categorical');
      const scored = await predictThroughCli(join(models, 'latest'), reference, dir);
      scored.slice(1).forEach((line, i) => {
        const written = Number(line.split(',')[1]);
        assert.ok(Math.abs(written - predictions.categorical[i]!) <= TOLERANCE, `row ${i}`);
      });
    });
  });
});

describe('an imported booster served, monitored and batch-scored like a native model', () => {
  let dir: string;
  let server: RunningServer;
  let table: ColumnarTable;
  let predictions: Float64Array;
  let modelDir: string;

  before(async () => {
    table = await readXgboostFixtureTable();
    predictions = (await fixturePredictions()).categorical;
    dir = await mkdtemp(join(tmpdir(), 'churnwatch-import-'));
    const models = join(dir, 'models');
    const imported = await importFixture('categorical', models);
    assert.equal(imported.code, 0, imported.stderr);
    modelDir = join(models, 'latest');
    server = await runServe({
      port: '0',
      host: '127.0.0.1',
      modelPath: modelDir,
      storeUrl: `sqlite:${join(dir, 'predictions.db')}`,
      logLevel: 'warn',
      env: {},
    });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("POST /predict with the CSV's field names gives xgboost's probability, missing values and categories included", async () => {
    const records = fixtureRecords(table);
    const payments = table.columns.get('payment method');
    const spend = table.columns.get('2024_spend');
    assert.ok(payments?.kind === 'categorical' && spend?.kind === 'numeric');
    const pick = [
      0,
      1,
      payments.codes.findIndex((c) => c < 0), // payment method missing
      Array.from(spend.values).findIndex((v) => Number.isNaN(v)), // a numeric missing (sent as null)
      Array.from(spend.values).findIndex((v, i) => Number.isNaN(v) && i % 2 === 1), // … left out
      records.findIndex((r) => typeof r['payment method'] === 'string' && r['payment method'].includes(',')),
      1500, // an edge row: a value on a split condition
      1999,
    ];
    for (const i of pick) {
      assert.ok(i >= 0);
      const res = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(records[i]),
      });
      const body = (await res.json()) as { churn_probability: number };
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.ok(
        Math.abs(body.churn_probability - predictions[i]!) <= TOLERANCE,
        `row ${i}: ${body.churn_probability} vs xgboost ${predictions[i]}`,
      );
    }
  });

  it('GET /model describes the imported model, /metrics carries its features', async () => {
    const { model } = await loadModelArtifact(modelDir);
    const described = (await (await fetch(`${server.url}/model`)).json()) as {
      version: string;
      threshold_rule: string;
      threshold: number;
      reference: {
        rows: number;
        features: Record<string, unknown>;
        drift_thresholds: { window_size: number };
      };
    };
    assert.equal(described.version, model.info.version);
    assert.equal(described.threshold, model.info.threshold);
    assert.equal(described.threshold_rule, 'max-f1-on-reference-holdout');
    assert.equal(described.reference.rows, 1500);
    assert.equal(described.reference.drift_thresholds.window_size, 200);
    assert.deepEqual(
      Object.keys(described.reference.features).sort(),
      XGBOOST_SCHEMA.features.map((f) => f.name).sort(),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const f of XGBOOST_SCHEMA.features)
      assert.ok(metrics.includes(`feature="${f.name}"`), `/metrics has no series of feature ${f.name}`);
  });

  it('churnwatch predict --model writes the same scores', async () => {
    const { model } = await loadModelArtifact(modelDir);
    const scores = model.scoreTable(table);
    const lines = await predictThroughCli(modelDir, DATA, dir);
    assert.equal(lines[0], 'customerID,churn_probability,churn');
    assert.equal(lines.length, table.rowCount + 1);
    for (let i = 0; i < table.rowCount; i++) {
      const [id, written] = lines[i + 1]!.split(',');
      assert.equal(id, `C${String(i).padStart(5, '0')}`);
      assert.equal(written, scores[i]!.toPrecision(6), `row ${i}`);
      assert.ok(Math.abs(Number(written) - predictions[i]!) <= TOLERANCE, `row ${i}`);
    }
  });
});
