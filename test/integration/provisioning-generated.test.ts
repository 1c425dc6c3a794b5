import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runProvision } from '../../src/cli/commands/provision.js';
import { exportedSeriesNames } from '../../src/metrics/catalogue.js';
import {
  allPromQLExpressions,
  generatedFiles,
  recordedSeriesNames,
} from '../../src/provisioning/generated-files.js';
import { alertNames } from '../../src/provisioning/prometheus-rules.js';
import { metricNamesIn } from '../../src/provisioning/promql.js';
import { repoRoot } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

const deployDir = join(repoRoot, 'deploy');
/** Series Prometheus makes itself: scrape health and the alerts it fires. */
const PROMETHEUS_OWN_SERIES = new Set(['up', 'ALERTS']);

describe('generated deploy files', () => {
  it('the committed files are exactly what the code generates', async () => {
    for (const file of generatedFiles()) {
      const committed = await readFile(join(deployDir, file.path), 'utf8').catch(() => undefined);
      assert.ok(committed !== undefined, `deploy/${file.path} is missing: run \`churnwatch provision\``);
      assert.ok(
        committed === file.content,
        `deploy/${file.path} differs from the code: run \`churnwatch provision\``,
      );
    }
  });

  it('provision --check reports a hand-edited file, and provision rewrites it', async () => {
    await withTempDir(async (dir) => {
      await cp(deployDir, dir, { recursive: true });
      const target = join(dir, 'prometheus', 'rules', 'churnwatch-alerts.yml');
      await writeFile(target, `${await readFile(target, 'utf8')}# edited by hand\n`);
      const checked = await runProvision({ out: dir, check: true });
      assert.equal(checked.ok, false);
      assert.deepEqual(
        checked.files.filter((f) => f.status !== 'unchanged').map((f) => [f.path, f.status]),
        [['prometheus/rules/churnwatch-alerts.yml', 'differs']],
      );
      const written = await runProvision({ out: dir, check: false });
      assert.equal(written.files.find((f) => f.path.endsWith('churnwatch-alerts.yml'))?.status, 'written');
      assert.equal((await runProvision({ out: dir, check: true })).ok, true);
    });
  });
});

describe('metric names in rules and dashboards', () => {
  it('the identifier scanner finds selected names and skips functions, labels, strings and numbers', () => {
    assert.deepEqual(
      metricNamesIn(
        'histogram_quantile(0.99, sum by(le, route) (rate(a_bucket{route=~"x|y"}[5m]))) / on(model_version) group_left() b:rec:1h > bool 1e-4 or label_replace(c, "method", "psi", "", "")',
      ),
      ['a_bucket', 'b:rec:1h', 'c'],
    );
  });

  it('every name a panel or rule uses is exported by the catalogue or recorded by a rule', () => {
    const known = new Set([...exportedSeriesNames(), ...recordedSeriesNames(), ...PROMETHEUS_OWN_SERIES]);
    const expressions = allPromQLExpressions();
    assert.ok(expressions.length > 50, `only ${expressions.length} expressions found`);
    const unknown: string[] = [];
    for (const { source, expr } of expressions) {
      for (const name of metricNamesIn(expr)) if (!known.has(name)) unknown.push(`${name} in ${source}`);
    }
    assert.deepEqual(unknown, []);
  });

  it('dashboard expressions have no Grafana variable left after substitution', () => {
    for (const { source, expr } of allPromQLExpressions()) {
      assert.ok(!expr.includes('$'), `${source}: ${expr}`);
    }
  });

  it('dashboards cover the panels the monitoring needs', async () => {
    const board = JSON.parse(
      await readFile(join(deployDir, 'grafana/dashboards/churnwatch-model.json'), 'utf8'),
    );
    const titles = (board.panels as { title: string }[]).map((p) => p.title);
    for (const title of [
      'Live model version',
      'Training label distribution',
      'Prediction label distribution ($window)',
      'Accuracy (realized, $window)',
      'Accuracy over time',
      'Predicted vs actual churn rate',
      'Realized and estimated performance',
      'Score distribution: training vs serving ($window)',
      'Feature drift ($window)',
      '$feature: training vs serving ($window)',
      'Missing values',
      'Label coverage',
      'Firing alerts',
    ]) {
      assert.ok(titles.includes(title), `missing panel ${title}`);
    }
    const repeated = (board.panels as { repeat?: string }[]).filter((p) => p.repeat === 'feature');
    assert.equal(repeated.length, 1);
  });
});

describe('alerts: tests and runbook', () => {
  it('every alert has a firing and a quiet promtool case', async () => {
    const tests = parse(
      await readFile(join(deployDir, 'prometheus/tests/churnwatch-alerts.test.yml'), 'utf8'),
    ) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of alertNames()) {
      const mine = cases.filter((c) => c.alertname === alert);
      assert.ok(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} has no case where it fires`,
      );
      assert.ok(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} has no case where it stays quiet`,
      );
    }
  });

  it('every alert has a runbook section its runbook_url points at', async () => {
    const runbook = await readFile(join(repoRoot, 'docs', 'runbook.md'), 'utf8');
    const headings = new Set([...runbook.matchAll(/^## (\S+)/gm)].map((m) => (m[1] ?? '').toLowerCase()));
    for (const alert of alertNames())
      assert.ok(headings.has(alert.toLowerCase()), `docs/runbook.md lacks ## ${alert}`);
  });
});
