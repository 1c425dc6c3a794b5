/**
 * Agreement 2: the repository's Prometheus recording rules (src/provisioning/prometheus-rules.ts),
 * evaluated by a real Prometheus scraping a real server, give the same PSI and Jensen-Shannon per
 * feature and the same estimated and realized accuracy/precision/recall/F1 as the in-process monitor on
 * the same predictions (1e-6 relative).
 *
 * The rules are generated for a 1h window with `increase(counter[1h])` replaced by the counter itself,
 * i.e. the window "since the server started", which is exactly what the monitor's (large) window holds.
 * With increase() the numbers would only agree approximately: Prometheus extrapolates each series to
 * the window edges, and the realized-confusion series are born at their first join, not at zero, so
 * increase() misses their first increment. The rules' arithmetic (floors, ratios, PSI, JS, F1) is
 * what this test checks.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { generateCustomerRows } from '../../src/data/synthetic.js';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import { createLiveMonitor, type LiveMonitor } from '../../src/monitor/live-monitor.js';
import type { WindowAnalysis } from '../../src/monitor/window-analysis.js';
import { DEFAULT_RULE_OPTIONS, recordingRuleGroups } from '../../src/provisioning/prometheus-rules.js';
import { openStore } from '../../src/store/open-store.js';
import {
  PROMETHEUS,
  type RunningProcess,
  requireBinary,
  startProcess,
  waitForHttp,
} from '../helpers/external-binary.js';
import { freePort } from '../helpers/free-port.js';
import { buildTestApp, customerRequests } from '../helpers/server-harness.js';
import { trainSmallModel } from '../helpers/train-small-model.js';
import { waitFor } from '../helpers/wait-for.js';

const N = 2000;
const SEED = 57;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

function close(actual: number, expected: number, what: string): void {
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) / scale <= 1e-6, `${what}: PromQL ${actual} vs monitor ${expected}`);
}

describe('PromQL recording rules agree with the monitor', () => {
  let dir: string;
  let model: ChurnModel;
  let app: FastifyInstance | undefined;
  let prometheus: RunningProcess | undefined;
  let promUrl = '';
  let monitor: LiveMonitor;
  let skipped = false;

  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: Sample[] } };
    assert.equal(body.status, 'success', expr);
    return body.data.result;
  };
  const scalar = async (expr: string): Promise<number | undefined> => {
    const r = await query(expr);
    return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
  };

  before(async (t) => {
    const binary = requireBinary(t as never, PROMETHEUS);
    if (!binary) {
      skipped = true;
      return;
    }
    model = await loadModel(join(await trainSmallModel(), 'latest'));
    dir = await mkdtemp(join(tmpdir(), 'churnwatch-promql-'));
    const store = openStore(`sqlite:${join(dir, 'log.db')}`);
    await store.migrate();
    monitor = createLiveMonitor({ window: { maxRows: 10_000 }, cacheMs: 0 });
    const api = await buildTestApp({
      store,
      model,
      config: { batchLimit: 1000 },
      observer: monitor,
      registry: new Registry(),
    });
    app = api;
    api.addHook('onClose', () => store.close());
    const apiUrl = await api.listen({ port: 0, host: '127.0.0.1' });

    const groups = recordingRuleGroups({ ...DEFAULT_RULE_OPTIONS, windows: ['1h'], alertWindow: '1h' }).map(
      (g) => ({
        name: g.name,
        rules: g.rules.map((r) => ({
          ...r,
          expr: r.expr.replace(/increase\((churnwatch_[a-z_]+)\[1h\]\)/g, '$1'),
        })),
      }),
    );
    await writeFile(join(dir, 'rules.yml'), stringify({ groups }));
    await writeFile(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yml')],
        scrape_configs: [
          { job_name: 'churnwatch-api', static_configs: [{ targets: [new URL(apiUrl).host] }] },
        ],
      }),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = startProcess(binary, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    await waitForHttp(`${promUrl}/-/ready`, 20_000, prometheus.output);

    const records = customerRequests(N, SEED);
    const labels = [...generateCustomerRows({ rows: N, seed: SEED })].map((r) => r.churn);
    const ids: string[] = [];
    for (let i = 0; i < N; i += 500) {
      const res = await api.inject({
        method: 'POST',
        url: '/predict',
        payload: { records: records.slice(i, i + 500) },
      });
      assert.equal(res.statusCode, 200, res.body);
      ids.push(
        ...(res.json() as { predictions: { prediction_id: string }[] }).predictions.map(
          (p) => p.prediction_id,
        ),
      );
    }
    const feedback = ids.flatMap((id, i) => (i % 4 === 0 ? [] : [{ prediction_id: id, churn: labels[i]! }]));
    for (let k = 0; k < feedback.length; k += 500) {
      const res = await api.inject({
        method: 'POST',
        url: '/feedback',
        payload: { records: feedback.slice(k, k + 500) },
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    // Wait until a rule evaluation has seen the last scrape of all traffic.
    let seen = '';
    await waitFor(
      async () => {
        const realized = await scalar('churnwatch:confusion_rows:1h{kind="realized"}');
        const rows = await scalar('churnwatch:feature_rows:1h{feature="MONTANT"}');
        // Rule groups are evaluated one after another: the score rules may see the last scrape later.
        const scoreRows = await scalar('churnwatch:score_rows:1h');
        const scorePsi = await scalar('churnwatch:score_psi:1h');
        seen = `realized ${realized}, rows ${rows}, score rows ${scoreRows}, score PSI ${scorePsi}`;
        return realized === feedback.length && rows === N && scoreRows === N && scorePsi !== undefined;
      },
      {
        what: `Prometheus's rules to count all ${N} predictions and ${feedback.length} labels`,
        timeoutMs: 30_000,
        intervalMs: 250,
        describe: () => `last seen: ${seen}\n${prometheus!.output()}`,
      },
    );
  });

  after(async () => {
    await prometheus?.stop();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('PSI and Jensen-Shannon per feature and for the score', async (t) => {
    if (skipped) return t.skip('no prometheus');
    const a = (await monitor.analyze()) as WindowAnalysis;
    assert.equal(a.rows, N);
    const byFeature = new Map(a.drift.features.map((f) => [f.feature, f]));
    for (const [record, method] of [
      ['churnwatch:feature_psi:1h', 'psi'],
      ['churnwatch:feature_jensen_shannon:1h', 'jensen_shannon'],
    ] as const) {
      const samples = await query(record);
      assert.equal(samples.length, Object.keys(model.profile.features).length, record);
      for (const s of samples) {
        const mine = byFeature.get(s.metric.feature!)?.scores[method];
        assert.ok(mine !== undefined, s.metric.feature);
        close(Number(s.value[1]), mine, `${method} ${s.metric.feature}`);
      }
    }
    close((await scalar('churnwatch:score_psi:1h'))!, a.drift.score!.scores.psi!, 'score psi');
    close(
      (await scalar('churnwatch:score_jensen_shannon:1h'))!,
      a.drift.score!.scores.jensen_shannon!,
      'score js',
    );
  });

  it('estimated and realized accuracy, precision, recall, F1 and specificity', async (t) => {
    if (skipped) return t.skip('no prometheus');
    const a = (await monitor.analyze()) as WindowAnalysis;
    assert.ok(a.estimated && a.realized);
    for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'specificity'] as const) {
      const estimated = await scalar(`churnwatch:model_performance:1h{kind="estimated", metric="${metric}"}`);
      const realized = await scalar(`churnwatch:model_performance:1h{kind="realized", metric="${metric}"}`);
      close(estimated!, a.estimated[metric], `estimated ${metric}`);
      close(realized!, a.realized[metric], `realized ${metric}`);
    }
  });
});
