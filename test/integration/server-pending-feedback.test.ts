/**
 * Bounded pending feedback through the server (issue 19): a few thousand items naming predictions
 * that never come stay within --pending-feedback-max, the rest are dropped and counted, none is
 * retried while no prediction could match it, a late prediction still joins its label, and expired
 * items go. Real SQLite file with its writer thread; the periodic job is run by hand.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/model/model-io.js';
import { openStore } from '../../src/store/open-store.js';
import { buildTestApp, customerRequests, parseMetrics, sumSeries } from '../helpers/server-harness.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const CAP = 1000;
const HOUR = 3_600_000;

describe('pending feedback through the server', () => {
  it('keeps at most the cap, drops and counts the rest, retries nothing unjoinable, expires', () =>
    withTempDir(async (dir) => {
      const models = await trainSmallModel();
      const store = openStore(`sqlite:${join(dir, 'pending.db')}`);
      await store.migrate();
      let now = Date.UTC(2024, 5, 1);
      let nextId = 0;
      const app = await buildTestApp({
        store,
        model: await loadModel(join(models, 'latest')),
        clock: () => now,
        newId: () => `p-${nextId++}`,
        config: { pendingFeedbackMax: CAP, pendingFeedbackTtl: 2 * HOUR },
      });
      const metrics = async () => parseMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body);
      try {
        // 3,000 unjoinable items, a second apart per 1,000, then one for the second prediction (p-1).
        for (let batch = 0; batch < 3; batch++) {
          const records = Array.from({ length: 1000 }, (_, k) => ({
            prediction_id: `unknown-${batch}-${k}`,
            churn: k % 2,
          }));
          const res = await app.inject({ method: 'POST', url: '/feedback', payload: { records } });
          assert.equal(res.statusCode, 200, res.body);
          now += 1000;
        }
        const late = await app.inject({
          method: 'POST',
          url: '/feedback',
          payload: { prediction_id: 'p-1', churn: 1 },
        });
        assert.equal((late.json() as { status: string }).status, 'pending');
        now += 1000;
        const predict = () =>
          app.inject({ method: 'POST', url: '/predict', payload: { records: customerRequests(1, 5) } });

        // p-0 matches nothing pending: the job tries nothing, and the cap drops the oldest 2,001.
        await predict();
        assert.equal(await app.churnwatch.joinPendingNow(), 0);
        let m = await metrics();
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending'), CAP);
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending_dropped_total', 'reason="cap"'), 2001);
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending_dropped_total', 'reason="expired"'), 0);
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending_retries_total'), 0);
        // The oldest kept came with the third batch, 2 s ago; the newest kept is p-1's.
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending_oldest_age_seconds'), 2);

        // p-1 arrives: its label, kept under the cap, joins; one item tried.
        await predict();
        assert.equal(await app.churnwatch.joinPendingNow(), 1);
        m = await metrics();
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending_retries_total'), 1);
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending'), CAP - 1);
        assert.equal(sumSeries(m, 'churnwatch_realized_confusion_total'), 1);

        // Past the time to live, every item left expires.
        now += 3 * HOUR;
        assert.equal(await app.churnwatch.joinPendingNow(), 0);
        m = await metrics();
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending_dropped_total', 'reason="expired"'), CAP - 1);
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending'), 0);
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending_oldest_age_seconds'), 0);
        assert.equal(sumSeries(m, 'churnwatch_feedback_pending_retries_total'), 1);
      } finally {
        await app.close();
        await store.close();
      }
    }));
});
