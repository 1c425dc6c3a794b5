import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { PROMTOOL, requireBinary } from '../helpers/external-binary.js';
import { oraclePath, repoRoot } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

const prometheusDir = join(repoRoot, 'deploy', 'prometheus');

function promtool(binary: string, args: readonly string[], cwd = prometheusDir): string {
  const run = spawnSync(binary, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  const output = `${run.stdout}${run.stderr}`;
  assert.equal(run.status, 0, `promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}

interface CategoricalCase {
  name: string;
  categories: string[];
  reference_counts: number[];
  current_counts: number[];
  psi: number;
  jensenshannon_distance_base2: number;
}

describe('Prometheus config and rules, checked by promtool', () => {
  it('promtool check config accepts prometheus.yml and its rule files', (t) => {
    const binary = requireBinary(t, PROMTOOL);
    if (!binary) return;
    const out = promtool(binary, ['check', 'config', 'prometheus.yml']);
    assert.match(out, /SUCCESS: 2 rule files found/);
  });

  it('promtool check rules accepts both rule files', (t) => {
    const binary = requireBinary(t, PROMTOOL);
    if (!binary) return;
    promtool(binary, ['check', 'rules', 'rules/churnwatch-recording.yml', 'rules/churnwatch-alerts.yml']);
  });

  it('every alert fires and stays quiet as its unit tests say', (t) => {
    const binary = requireBinary(t, PROMTOOL);
    if (!binary) return;
    const out = promtool(binary, ['test', 'rules', 'tests/churnwatch-alerts.test.yml']);
    assert.match(out, /SUCCESS/);
  });

  it('the PSI and Jensen-Shannon recording rules match the SciPy oracle, summed over two replicas', async (t) => {
    const binary = requireBinary(t, PROMTOOL);
    if (!binary) return;
    const oracle = JSON.parse(await readFile(oraclePath('drift-categorical.json'), 'utf8')) as {
      cases: CategoricalCase[];
    };
    const inputSeries: { series: string; values: string }[] = [];
    const exprTests: { expr: string; eval_time: string; exp_samples: { labels: string; value: number }[] }[] =
      [];
    for (const c of oracle.cases) {
      const refTotal = c.reference_counts.reduce((a, b) => a + b, 0);
      c.categories.forEach((category, i) => {
        const labels = `model_version="v1", feature="${c.name}", bin="${category}"`;
        const share = (c.reference_counts[i] ?? 0) / refTotal;
        // Both replicas export the same reference share; the traffic splits unevenly between them.
        for (const instance of ['api-1:8000', 'api-2:8000']) {
          inputSeries.push({
            series: `churnwatch_feature_reference_ratio{job="churnwatch-api", instance="${instance}", ${labels}}`,
            values: `${share}x90`,
          });
        }
        const count = c.current_counts[i] ?? 0;
        const first = Math.floor(count / 3);
        if (count === 0) return; // a bin with no traffic has no counter series
        inputSeries.push({
          series: `churnwatch_feature_values_total{job="churnwatch-api", instance="api-1:8000", ${labels}}`,
          values: `0+${first}x90`,
        });
        inputSeries.push({
          series: `churnwatch_feature_values_total{job="churnwatch-api", instance="api-2:8000", ${labels}}`,
          values: `0+${count - first}x90`,
        });
      });
      const sample = [{ labels: `{model_version="v1", feature="${c.name}"}`, value: 1 }];
      exprTests.push({
        expr: `abs(churnwatch:feature_psi:1h{feature="${c.name}"} - ${c.psi}) < bool 1e-9`,
        eval_time: '80m',
        exp_samples: sample,
      });
      exprTests.push({
        expr: `abs(churnwatch:feature_jensen_shannon:1h{feature="${c.name}"} - ${c.jensenshannon_distance_base2}) < bool 1e-9`,
        eval_time: '80m',
        exp_samples: sample,
      });
    }
    await withTempDir(async (dir) => {
      const file = join(dir, 'oracle.test.yml');
      await writeFile(
        file,
        stringify({
          rule_files: [join(prometheusDir, 'rules', 'churnwatch-recording.yml')],
          evaluation_interval: '1m',
          tests: [{ interval: '1m', input_series: inputSeries, promql_expr_test: exprTests }],
        }),
      );
      promtool(binary, ['test', 'rules', file], dir);
    });
  });
});
