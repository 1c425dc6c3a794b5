/** The real /metrics output after traffic passes `promtool check metrics`, with bounded label values. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { METRICS } from '../../src/metrics/catalogue.js';
import { loadModel } from '../../src/model/model-io.js';
import { openStore } from '../../src/store/open-store.js';
import { PROMTOOL, requireBinary } from '../helpers/external-binary.js';
import { buildTestApp, customerRequests } from '../helpers/server-harness.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

describe('/metrics exposition', () => {
  it('passes promtool check metrics after traffic, with every server metric of the catalogue', (t) =>
    withTempDir(async (dir) => {
      const promtool = requireBinary(t, PROMTOOL);
      if (!promtool) return;
      const models = await trainSmallModel();
      const store = openStore(`sqlite:${join(dir, 'm.db')}`);
      await store.migrate();
      const app = await buildTestApp({
        store,
        model: await loadModel(join(models, 'latest')),
      });
      try {
        const records = customerRequests(200, 12);
        const res = await app.inject({ method: 'POST', url: '/predict', payload: { records } });
        const ids = (res.json() as { predictions: { prediction_id: string }[] }).predictions.map(
          (p) => p.prediction_id,
        );
        await app.inject({
          method: 'POST',
          url: '/feedback',
          payload: { records: ids.slice(0, 50).map((id, i) => ({ prediction_id: id, churn: i % 2 })) },
        });
        await app.inject({ method: 'POST', url: '/feedback', payload: { user_id: 'nobody', churn: 1 } });
        await app.inject({ method: 'POST', url: '/predict', payload: { MONTANT: 'bad' } });
        const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
        const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        // promtool exits 0 when clean; lint findings go to stdout/stderr and exit non-zero.
        assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
        for (const spec of Object.values(METRICS)) {
          if (spec.source !== 'server') continue;
          assert.ok(
            text.includes(`# TYPE ${spec.name} ${spec.type}`),
            `${spec.name} is exported as a ${spec.type}`,
          );
        }
        assert.ok(text.includes('process_resident_memory_bytes'));
        // Cardinality: only profile bins, never raw input, label the feature series.
        const featureSeries = text
          .split('\n')
          .filter((l) => l.startsWith('churnwatch_feature_values_total{'));
        assert.ok(featureSeries.length < 400, `${featureSeries.length} feature series`);
        assert.ok(!text.includes('nobody'));
      } finally {
        await app.close();
        await store.close();
      }
    }));
});
