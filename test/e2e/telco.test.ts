/**
 * The real Telco customer-churn table (../shared/data/telco, SOURCE.md) end to end, as a user monitors
 * their own data set: train through the CLI with its own target, positive label and id; serve it; predict
 * over HTTP with its own field names; replay the held-out rows and deliver their labels; a drift scenario on
 * the feature the simulator picks from the model, flagged by the in-process monitor at its calibrated
 * threshold; the offline report; and `provision --model`, whose rules promtool accepts.
 * Runs wherever the file exists; under CI=true a missing file fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type RunningServer, runServe } from '../../src/cli/commands/serve.js';
import { runSimulateFeedback, runSimulatePredictions } from '../../src/cli/commands/simulate.js';
import { loadReplayModel } from '../../src/simulate/replay-model.js';
import { planScenarios } from '../../src/simulate/scenario-plan.js';
import { PROMTOOL, requireBinary } from '../helpers/external-binary.js';
import { runCli } from '../helpers/run-cli.js';
import { writeSeededSplit } from '../helpers/seeded-split.js';
import { sharedFileOrSkip, telcoPath } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

/** The value of one series of a /metrics text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  return text
    .split('\n')
    .filter(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    )
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('Telco end to end: train, serve, predict with its own fields, feedback, drift flagged, report, provision', {
  timeout: 240_000,
}, async (t) => {
  const telco = sharedFileOrSkip(t, telcoPath(), 'telco/telco-customer-churn.csv');
  const promtool = requireBinary(t, PROMTOOL);
  if (!telco || !promtool) return;
  await withTempDir(async (dir) => {
    const train = join(dir, 'train.csv');
    const holdout = join(dir, 'holdout.csv');
    writeSeededSplit(telco, train, holdout);
    const models = join(dir, 'models');
    const trained = await runCli([
      ...'train --target Churn --positive-label Yes --id customerID --quiet --trees 60 --window-size 300'.split(
        ' ',
      ),
      ...['--data', train, '--models', models],
    ]);
    assert.equal(trained.code, 0, trained.stderr);

    let server: RunningServer | undefined;
    t.after(() => server?.close());
    server = await runServe({
      port: '0',
      host: '127.0.0.1',
      modelPath: join(models, 'latest'),
      storeUrl: `sqlite:${join(dir, 'telco.db')}`,
      logLevel: 'warn',
      env: {},
    });
    const url = server.url;

    // One customer as the CSV has it (the first held-out row), under its own names and one lower-case spelling.
    const [header, first] = (await readFile(holdout, 'utf8')).split('\n');
    const names = header!.split(',');
    const cells = first!.split(',');
    const record: Record<string, string | number | null> = {};
    names.forEach((name, i) => {
      if (name === 'Churn') return;
      const text = cells[i]!.trim();
      const numeric = ['SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges'].includes(name);
      record[name === 'MonthlyCharges' ? 'monthlycharges' : name] = numeric
        ? text === ''
          ? null
          : Number(text)
        : text;
    });
    const answer = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(record),
    });
    const body = (await answer.json()) as Record<string, unknown>;
    assert.equal(answer.status, 200, JSON.stringify(body));
    assert.equal(typeof body.prediction_id, 'string');
    const refused = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...record, MONTANT: 4000 }),
    });
    assert.equal(refused.status, 400, 'an Expresso field is unknown to the Telco model');
    const modelInfo = (await (await fetch(`${url}/model`)).json()) as Record<string, unknown>;
    assert.match(JSON.stringify(modelInfo), /TotalCharges/);

    // The held-out customers, then their labels through the positive label Yes: all join.
    const common = { concurrency: 4, batch: 25, speed: 1000, seed: 7, loop: false, quiet: true } as const;
    const handoff = join(dir, 'sent.jsonl');
    const sent = await runSimulatePredictions({
      ...common,
      url,
      data: holdout,
      model: join(models, 'latest'),
      rate: 20_000,
      rows: 1000,
      scenario: 'stable',
      handoff,
    });
    assert.equal(sent.rejected, 0, sent.firstRejection);
    const fed = await runSimulateFeedback({
      url,
      coverage: 1,
      minDelayMs: 0,
      maxDelayMs: 10,
      speed: 1000,
      by: 'prediction_id',
      seed: 11,
      handoff,
      quiet: true,
    });
    assert.ok(fed.sent >= 1000, JSON.stringify(fed));
    await waitFor(
      async () =>
        sum(await (await fetch(`${url}/metrics`)).text(), 'churnwatch_feedback_total', {
          status: 'joined',
        }) >= 1000,
      { what: '1,000 Telco labels joined', timeoutMs: 20_000 },
    );

    // The drift scenario shifts the feature the plan picks from the model; the monitor flags it.
    const plan = planScenarios(await loadReplayModel(join(models, 'latest')));
    const drifted = await runSimulatePredictions({
      ...common,
      url,
      data: holdout,
      model: join(models, 'latest'),
      rate: 20_000,
      rows: 600,
      scenario: 'sudden-drift',
      handoff: undefined,
    });
    assert.equal(drifted.rejected, 0, drifted.firstRejection);
    const feature = plan.drift[0];
    assert.ok(
      feature && ['tenure', 'MonthlyCharges', 'TotalCharges', 'SeniorCitizen'].includes(feature),
      `the drift scenario scales a numeric Telco feature: ${plan.drift.join(', ')}`,
    );
    let metrics = '';
    await waitFor(
      async () => {
        metrics = await (await fetch(`${url}/metrics`)).text();
        return sample(metrics, 'churnwatch_drift_detected', { feature }) === 1;
      },
      {
        what: `${feature} flagged as drifted`,
        timeoutMs: 30_000,
        describe: () =>
          metrics
            .split('\n')
            .filter((l) => l.startsWith('churnwatch_drift_detected'))
            .join('\n'),
      },
    );
    const stable = ['gender', 'Partner', 'PaymentMethod'].filter(
      (f) => sample(metrics, 'churnwatch_drift_detected', { feature: f }) === 1,
    );
    assert.ok(stable.length <= 1, `untouched features flagged: ${stable.join(', ')}`);

    // The offline report on the two files, with the Telco roles.
    const reportJson = join(dir, 'report.json');
    const report = await runCli([
      ...['report', '--reference', train, '--current', holdout, '--target', 'Churn', '--id', 'customerID'],
      ...['--json', reportJson],
    ]);
    assert.equal(report.code, 0, report.stderr);
    const reportText = await readFile(reportJson, 'utf8');
    assert.match(reportText, /TotalCharges/);
    assert.doesNotMatch(reportText, /"customerID"\s*:\s*\{\s*"kind"/, 'the id is not judged as a feature');

    // Rules and dashboards for this model; promtool accepts the rules.
    const deploy = join(dir, 'deploy');
    const provisioned = await runCli(['provision', '--model', join(models, 'latest'), '--out', deploy]);
    assert.equal(provisioned.code, 0, provisioned.stderr);
    const rulesDir = join(deploy, 'prometheus', 'rules');
    const rules = (await readdir(rulesDir)).filter((f) => f.endsWith('.yml')).map((f) => join(rulesDir, f));
    const checked = spawnSync(promtool, ['check', 'rules', ...rules], { encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    const dashboard = await readFile(join(deploy, 'grafana', 'dashboards', 'churnwatch-model.json'), 'utf8');
    assert.match(dashboard, /MonthlyCharges|TotalCharges|tenure/);
  });
});
