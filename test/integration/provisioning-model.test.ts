/**
 * `churnwatch provision --model` on a model that is not Expresso (test/helpers/train-generic-model.ts:
 * feature names with spaces, dashes, a leading digit, "Score" and "id"): the rules are the same as
 * Expresso's (feature-agnostic, so their series are bounded by the counters' bins), pass promtool, and
 * flag the drifted feature by its awkward name; the model dashboard opens on the most important features.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { runProvision } from '../../src/cli/commands/provision.js';
import { exportedSeriesNames } from '../../src/metrics/catalogue.js';
import { loadModel } from '../../src/model/model-io.js';
import type { ReferenceProfile } from '../../src/model/reference-profile-types.js';
import { ALERT_DEFINITIONS } from '../../src/monitor/alert-definitions.js';
import {
  allPromQLExpressions,
  generatedFiles,
  recordedSeriesNames,
} from '../../src/provisioning/generated-files.js';
import { DEFAULT_RULE_OPTIONS } from '../../src/provisioning/prometheus-rules.js';
import { metricNamesIn } from '../../src/provisioning/promql.js';
import { loadProvisionModel, type ProvisionModel } from '../../src/provisioning/provision-model.js';
import { PROMTOOL, requireBinary } from '../helpers/external-binary.js';
import { type GenericModel, trainGenericModel } from '../helpers/train-generic-model.js';

const DRIFTED = 'tenure months';

function promtool(binary: string, args: readonly string[], cwd: string): string {
  const run = spawnSync(binary, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  const output = `${run.stdout}${run.stderr}`;
  assert.equal(run.status, 0, `promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}

/** PSI with the rules' convention: shares floored at 1e-4. */
function psi(current: readonly number[], reference: readonly number[]): number {
  const floor = DEFAULT_RULE_OPTIONS.shareFloor;
  let sum = 0;
  current.forEach((c, i) => {
    const cf = Math.max(c, floor);
    const rf = Math.max(reference[i] ?? 0, floor);
    sum += (cf - rf) * Math.log(cf / rf);
  });
  return sum;
}

/** A PromQL label value inside double quotes. */
const quoted = (v: string) => JSON.stringify(v);

describe('provision --model on a non-Expresso model', () => {
  let dir: string;
  let generic: GenericModel;
  let model: ProvisionModel;
  let profile: ReferenceProfile;
  let out: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'churnwatch-provision-model-'));
    generic = await trainGenericModel(dir, { rows: 1200, numeric: 8, categorical: 4, seed: 17, trees: 10 });
    model = await loadProvisionModel(generic.modelDir);
    profile = (await loadModel(generic.modelDir)).profile;
    out = join(dir, 'deploy');
    const result = await runProvision({ out, check: false, model: join(generic.modelsDir, 'latest') });
    assert.ok(result.ok);
    assert.equal((await runProvision({ out, check: true, model: generic.modelDir })).ok, true);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the rules are the Expresso ones: no feature or category is written into them', () => {
    const expresso = new Map(generatedFiles().map((f) => [f.path, f.content]));
    for (const file of generatedFiles(undefined, model)) {
      if (!file.path.startsWith('prometheus/')) continue;
      assert.equal(file.content, expresso.get(file.path), file.path);
      for (const name of model.features)
        assert.ok(!file.content.includes(`"${name}"`), `${name} in ${file.path}`);
    }
  });

  it('the model dashboard opens on the six most important features, in Grafana JSON', async () => {
    const board = JSON.parse(
      await readFile(join(out, 'grafana', 'dashboards', 'churnwatch-model.json'), 'utf8'),
    );
    const feature = board.templating.list.find((v: { name: string }) => v.name === 'feature');
    assert.deepEqual(feature.current.value, model.features.slice(0, 6));
    assert.equal(model.features.length, 12);
    // The repeated drill-down matches the (regex-escaped) value with =~, whatever the name holds.
    const text = JSON.stringify(board);
    assert.ok(text.includes('feature=~\\"$feature\\"'));
    assert.ok(!text.includes('feature=\\"$feature\\"'));
  });

  it("every expression names known series and has no variable left with the model's feature", () => {
    const known = new Set([...exportedSeriesNames(), ...recordedSeriesNames(), 'up', 'ALERTS']);
    for (const { source, expr } of allPromQLExpressions(undefined, model)) {
      assert.ok(!expr.includes('$'), `${source}: ${expr}`);
      for (const name of metricNamesIn(expr)) assert.ok(known.has(name), `${name} in ${source}`);
    }
  });

  it('promtool accepts the rules, and the drift alert fires for the drifted awkward name only', async (t) => {
    const binary = requireBinary(t, PROMTOOL);
    if (!binary) return;
    const rules = ['churnwatch-recording.yml', 'churnwatch-alerts.yml'].map((f) =>
      join(out, 'prometheus', 'rules', f),
    );
    promtool(binary, ['check', 'rules', ...rules], dir);

    const inputSeries: { series: string; values: string }[] = [];
    const perMinute = 20;
    let driftPsi = 0;
    for (const [name, f] of Object.entries(profile.features)) {
      // The drifted feature sends everything to its last quantile bin; the others follow the reference.
      const target = f.labels.length - 3;
      const current = f.labels.map((_, i) =>
        name === DRIFTED ? (i === target ? 1 : 0) : (f.shares[i] ?? 0),
      );
      if (name === DRIFTED) driftPsi = psi(current, f.shares);
      f.labels.forEach((bin, i) => {
        const labels = `job="churnwatch-api", instance="api:8000", model_version="v1", feature=${quoted(name)}, bin=${quoted(bin)}`;
        inputSeries.push({
          series: `churnwatch_feature_reference_ratio{${labels}}`,
          values: `${f.shares[i] ?? 0}x90`,
        });
        if (current[i]! > 0)
          inputSeries.push({
            series: `churnwatch_feature_values_total{${labels}}`,
            values: `0+${current[i]! * perMinute}x90`,
          });
      });
    }
    const d = ALERT_DEFINITIONS.featureDrift;
    const render = (template: string) =>
      template
        .replaceAll('{{ $labels.feature }}', DRIFTED)
        .replaceAll('{{ $labels.model_version }}', 'v1')
        .replaceAll('{{ $value | printf "%.3f" }}', driftPsi.toFixed(3));
    // The description as the generated rule file has it (one source: prometheus-rules.ts), rendered.
    const alertGroups = parse(await readFile(rules[1]!, 'utf8')) as {
      groups: { rules: { alert?: string; annotations?: { description: string } }[] }[];
    };
    const driftRule = alertGroups.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === 'ChurnwatchFeatureDrift');
    assert.ok(driftRule?.annotations, 'the alerts file has ChurnwatchFeatureDrift');
    const description = render(driftRule.annotations.description);
    const testFile = join(dir, 'generic.test.yml');
    await mkdir(dir, { recursive: true });
    await writeFile(
      testFile,
      stringify({
        rule_files: rules,
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: inputSeries,
            alert_rule_test: [
              { eval_time: '60m', alertname: 'ChurnwatchMissingValueSpike', exp_alerts: [] },
              {
                eval_time: '60m',
                alertname: d.name,
                exp_alerts: [
                  {
                    exp_labels: {
                      severity: d.severity,
                      model_version: 'v1',
                      feature: DRIFTED,
                      method: 'psi',
                    },
                    exp_annotations: {
                      summary: render(d.summary),
                      description,
                      runbook_url: `${DEFAULT_RULE_OPTIONS.runbookUrl}#${d.name.toLowerCase()}`,
                    },
                  },
                ],
              },
            ],
            promql_expr_test: [
              {
                // Every feature, "Score" and "id" and "2024_spend" included, has its PSI series.
                expr: 'count(churnwatch:feature_psi:1h)',
                eval_time: '60m',
                exp_samples: [{ labels: '{}', value: Object.keys(profile.features).length }],
              },
              {
                expr: 'churnwatch:feature_psi:1h{feature="Score"} < bool 0.01',
                eval_time: '60m',
                exp_samples: [{ labels: '{model_version="v1", feature="Score"}', value: 1 }],
              },
            ],
          },
        ],
      }),
    );
    assert.match(promtool(binary, ['test', 'rules', testFile], dir), /SUCCESS/);
  });
});
