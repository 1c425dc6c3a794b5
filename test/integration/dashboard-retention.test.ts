/**
 * The built-in dashboard's `auto` range with retention on: it fits the data the store still keeps.
 * Before, the first prediction found was kept for good, so once retention had deleted it the range
 * stayed as wide as the server's whole life and its left part was empty. Real SQLite, the real app.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/model/model-io.js';
import { openStore } from '../../src/store/open-store.js';
import { buildTestApp, customerRequests } from '../helpers/server-harness.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const HOUR = 3_600_000;

describe('dashboard auto range with retention', () => {
  it('starts no earlier than the retention span, though the first prediction was seen before', () =>
    withTempDir(async (dir) => {
      const models = await trainSmallModel();
      const store = openStore(`sqlite:${join(dir, 'retention.db')}`);
      await store.migrate();
      let now = Date.UTC(2024, 5, 1);
      const app = await buildTestApp({
        store,
        model: await loadModel(join(models, 'latest')),
        clock: () => now,
        config: { retention: 2 * HOUR, dashboardCacheMs: 0 },
      });
      const range = async () => {
        const res = await app.inject({ method: 'GET', url: '/dashboard/data.json?range=auto' });
        assert.equal(res.statusCode, 200, res.body);
        const { range } = JSON.parse(res.body) as { range: { fromMs: number; toMs: number } };
        return range;
      };
      const predict = async (n: number) => {
        for (const record of customerRequests(n, 11)) {
          const res = await app.inject({ method: 'POST', url: '/predict', payload: record });
          assert.equal(res.statusCode, 200, res.body);
        }
      };
      try {
        await predict(20);
        const first = await range();
        assert.ok(first.toMs - first.fromMs <= 5 * 60_000, 'a few minutes of data: a few minutes of range');
        // Ten hours later: new predictions, and retention deletes the first ones.
        now += 10 * HOUR;
        await predict(20);
        // Written first: SQLite's retention never deletes the prediction written last.
        await app.churnwatch.context.writer.flush();
        const dropped = await app.churnwatch.retainNow();
        assert.equal(dropped.predictions, 20);
        const later = await range();
        assert.ok(
          later.toMs - later.fromMs <= 3 * HOUR,
          `auto spans ${(later.toMs - later.fromMs) / HOUR} h with 2 h kept`,
        );
        assert.ok(later.fromMs >= now - 3 * HOUR);
      } finally {
        await app.close();
        await store.close();
      }
    }));
});
