/**
 * The dashboard JSON's time logic with an injected clock: the range that fits the data, chunk widths,
 * the running chunk and the chunks whose labels are not due yet, and the realized-accuracy tile's
 * minimum (the RealizedPerformanceLow alert's).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChurnModel } from '../model/churn-model.js';
import { createNumericBinning } from '../model/reference-bins.js';
import type { ReferenceProfile } from '../model/reference-profile-types.js';
import { ALERT_DEFINITIONS } from '../monitor/alert-definitions.js';
import { openStore } from '../store/open-store.js';
import type { PredictionColumns, PredictionRecord } from '../store/prediction-store.js';
import { toPredictionRows } from '../store/store-columns.js';
import { buildDashboardData, type DashboardData, resolveRange } from './dashboard-data.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 0, 5, 12, 0, 3); // 3 s into a 6 s chunk: the last chunk is still running

const profile: ReferenceProfile = {
  formatVersion: 1,
  rowCount: 10_000,
  classBalance: { negatives: 8000, positives: 2000, churnRate: 0.2 },
  features: {
    REGION: {
      kind: 'categorical',
      feature: 'REGION',
      categories: ['DAKAR', 'THIES'],
      seen: ['DAKAR', 'THIES'],
      labels: ['DAKAR', 'THIES', 'other', 'unseen', 'missing'],
      count: 10_000,
      shares: [0.5, 0.5, 0, 0, 0],
      missingShare: 0,
    },
  },
  score: {
    ...createNumericBinning('score', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], 0, 1),
    count: 10_000,
    shares: [0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0, 0],
    missingShare: 0,
    mean: 0.5,
    std: 0.29,
  },
  predictedChurnRate: 0.5,
};
const model = {
  info: {
    version: 'v1',
    trainedAt: '2026-01-01T00:00:00Z',
    threshold: 0.5,
    thresholdRule: 'test',
    validation: { accuracy: 0.9, precision: 0.8, recall: 0.7, f1: 0.75, rocAuc: 0.9 },
  },
  profile,
} as unknown as ChurnModel;

/**
 * Predictions every `everyMs` over the last `spanMs` before NOW; 80 % get a label `delayMs` after their
 * prediction when that is before NOW. The label is the predicted class (a perfect model).
 */
async function columnsOf(spanMs: number, everyMs: number, delayMs: number): Promise<PredictionColumns> {
  const store = openStore('sqlite::memory:');
  try {
    await store.migrate();
    const records: PredictionRecord[] = [];
    for (let t = NOW - spanMs, i = 0; t < NOW; t += everyMs, i++) {
      const score = ((i * 37) % 100) / 100;
      records.push({
        id: `p${i}`,
        createdAt: t,
        userId: `u${i}`,
        modelVersion: 'v1',
        features: { REGION: i % 2 === 0 ? 'DAKAR' : 'THIES' },
        score,
        predictedClass: score >= 0.5 ? 1 : 0,
      });
    }
    await store.insertRows(toPredictionRows(records));
    await store.recordFeedback(
      records
        .filter((p, i) => i % 5 !== 0 && p.createdAt + delayMs <= NOW)
        .map((p) => ({
          predictionId: p.id,
          label: p.predictedClass,
          observedAt: p.createdAt + delayMs,
          receivedAt: p.createdAt + delayMs,
        })),
    );
    return await store.readColumns({ modelVersion: 'v1' });
  } finally {
    await store.close();
  }
}

const feedback = { joined: 0, pending: 3, duplicate: 0, conflict: 0 };

function build(columns: PredictionColumns, extra: Partial<Parameters<typeof buildDashboardData>[0]> = {}) {
  return buildDashboardData({
    model,
    columns,
    feedback,
    now: NOW,
    firstPredictionAt: columns.createdAt[0],
    ...extra,
  });
}

describe('dashboard range', () => {
  it('auto fits the time since the first prediction, rounded up to a step, 3 minutes at least, 7 days at most', () => {
    const auto = (ago: number | undefined) =>
      resolveRange('auto', NOW, ago === undefined ? undefined : NOW - ago);
    assert.deepEqual(
      [auto(undefined).ms, auto(30_000).ms, auto(130_000).ms, auto(4 * MIN).ms, auto(50 * MIN).ms],
      [3 * MIN, 3 * MIN, 3 * MIN, 5 * MIN, 60 * MIN],
    );
    assert.equal(auto(30 * 86_400_000).ms, 7 * 86_400_000);
    assert.equal(auto(130_000).chunkMs, 6000);
    assert.equal(auto(50 * MIN).chunkMs, 120_000);
    assert.equal(auto(130_000).fromMs, NOW - 3 * MIN);
  });

  it('an explicit preset wins; no range or an unknown one is auto; chunks are ~1/30 of it, at least 5 s', () => {
    assert.deepEqual(resolveRange('1h', NOW, NOW - 30_000), {
      name: '1h',
      ms: 3_600_000,
      chunkMs: 120_000,
      fromMs: NOW - 3_600_000,
      toMs: NOW,
    });
    assert.equal(resolveRange(undefined, NOW, NOW - 30_000).name, 'auto');
    assert.equal(resolveRange('2y', NOW, NOW - 30_000).name, 'auto');
    assert.equal(resolveRange('5m', NOW, undefined).chunkMs, 10_000);
  });
});

describe('dashboard series: partial chunks and labels not due', () => {
  it('label figures only over rows due for labels; the running chunk and the not-due ones are flagged', async () => {
    // 150 s of predictions, 10 a second, labels 20 s late: the newest ~20 s have none yet.
    const d: DashboardData = build(await columnsOf(150_000, 100, 20_000));
    assert.equal(d.range.name, 'auto');
    assert.equal(d.range.chunkMs, 6000);
    assert.equal(d.labels.basis, 'observed p90');
    assert.equal(d.labels.dueAfterSeconds, 20);
    assert.equal(d.labels.dueBefore, NOW - 20_000);
    const s = d.series;
    const last = s.t.length - 1;
    assert.equal(s.partial[last], true, 'the chunk started 3 s ago is running');
    assert.equal(s.partial.filter(Boolean).length, 1);
    for (let i = 0; i < s.t.length; i++) {
      const due = s.t[i]! * 1000 + 6000 <= NOW - 20_000;
      assert.equal(s.labelsPartial[i], !due, `chunk ${i}`);
      if (!due) {
        assert.equal(s.labelCoverage[i], null, `chunk ${i}: not due, not drawn`);
        assert.equal(s.realized.recall[i], null);
        assert.equal(s.actualChurnRate[i], null);
        assert.equal(s.labelDelayMedianSeconds[i], null);
      } else {
        // Never the 0 % coverage / 100 % recall of unfinished chunks: 4 in 5 predictions are labelled
        // (the first chunk holds 3 s of rows only).
        const tolerance = i === 0 ? 0.15 : 0.05;
        assert.ok(Math.abs(s.labelCoverage[i]! - 0.8) < tolerance, `chunk ${i}: ${s.labelCoverage[i]}`);
        assert.equal(s.realized.accuracy[i], 1);
        assert.equal(s.labelDelayMedianSeconds[i], 20);
      }
    }
    assert.ok(s.labelsPartial.filter((p) => !p).length >= 20);
    // Estimated accuracy (scores only) is drawn up to the running chunk.
    assert.notEqual(s.estimated.accuracy[last], null);
    // The running chunk has 30 rows: below the policy's 200, no PSI drawn for it.
    assert.equal(s.scorePsi[last], null);
    assert.equal(d.feedback.pending, 3);
  });

  it('a configured label delay is used instead of the observed one; without any label nothing is due', async () => {
    const columns = await columnsOf(150_000, 100, 20_000);
    const d = build(columns, { expectedLabelDelayMs: 60_000 });
    assert.deepEqual(d.labels, { basis: 'configured', dueAfterSeconds: 60, dueBefore: NOW - 60_000 });
    const fullyDue = d.series.t.filter((t) => t * 1000 + 6000 <= NOW - 60_000).length;
    assert.ok(fullyDue > 10);
    assert.equal(d.series.labelsPartial.filter((p) => !p).length, fullyDue);
    const none = build(await columnsOf(150_000, 100, 10 * MIN));
    assert.deepEqual(none.labels, { basis: 'none', dueAfterSeconds: null, dueBefore: null });
    assert.ok(none.series.labelCoverage.every((c) => c === null));
  });
});

describe('the realized accuracy tile', () => {
  const minimum = ALERT_DEFINITIONS.realizedPerformanceLow.params.minLabeledRows;

  it('gives no number below the alert rule minimum of labelled predictions, and says how many it has', async () => {
    // Live window = the newest 1,000 stored rows (100 s); labels 95 s late: only ~40 are labelled.
    const d = build(await columnsOf(150_000, 100, 95_000));
    assert.equal(d.live.realizedMinLabeled, minimum);
    assert.ok(d.live.labeled > 0 && d.live.labeled < minimum, `${d.live.labeled} labelled`);
    assert.equal(d.live.realized, null);
    const alert = d.alerts.find((a) => a.name === ALERT_DEFINITIONS.realizedPerformanceLow.name)!;
    assert.equal(alert.state, 'no data');
  });

  it('gives the number from the minimum on', async () => {
    const d = build(await columnsOf(150_000, 100, 20_000));
    assert.ok(d.live.labeled >= minimum, `${d.live.labeled} labelled`);
    assert.equal(d.live.realized?.accuracy, 1);
  });
});
