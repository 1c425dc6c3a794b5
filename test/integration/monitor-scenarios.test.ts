/**
 * Agreement 3, the scenarios: a real model watches generated periods through the in-process monitor,
 * with drift thresholds calibrated (threshold-calibration.ts) on held-out windows of the monitoring size
 * drawn from a held-out set eight times larger than a window.
 * - stable data (same generator, other customers): no feature drifts;
 * - MONTANT scaled ×1.6 (PeriodShift.numericScale): MONTANT drifts, and few others;
 * - concept drift (PeriodShift.conceptDrift: the churn mechanism changes, the inputs do not): realized
 *   performance drops while input drift stays low, and estimated performance (CBPE) does not see it,
 *   because it only sees scores, which follow the inputs (docs/monitor.md explains this limit).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseCsvText } from '../../src/data/csv-reader.js';
import {
  CATEGORICAL_FEATURES,
  CSV_HEADER,
  NUMERIC_FEATURES,
  type RawFeatures,
} from '../../src/data/customer-schema.js';
import { createRng } from '../../src/data/rng.js';
import { formatCsvLine, generateCustomerRows, type PeriodShift } from '../../src/data/synthetic.js';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import { createLiveMonitor } from '../../src/monitor/live-monitor.js';
import { calibrateDriftThresholds } from '../../src/monitor/threshold-calibration.js';
import type { WindowAnalysis } from '../../src/monitor/window-analysis.js';
import type { PredictionRecord } from '../../src/store/prediction-store.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const ROWS = 2000;

/**
 * The small test model's own thresholds come from windows of 1,000 rows drawn without replacement from
 * its 1,000 validation rows: every window is the whole set, so they are degenerate (near zero). Calibrate
 * on a larger held-out set of the training distribution instead, for the window size watched here.
 */
function withCalibratedThresholds(model: ChurnModel): ChurnModel {
  const rows = [...generateCustomerRows({ rows: 8 * ROWS, seed: 999 })];
  const text = `${[CSV_HEADER.join(','), ...rows.map((r) => formatCsvLine(r))].join('\n')}\n`;
  const { table } = parseCsvText(text, 'held-out.csv', { schema: 'expresso' });
  const thresholds = calibrateDriftThresholds(model.profile, table, {
    windowSize: ROWS,
    rng: createRng(5),
    scores: model.scoreTable(table),
  });
  const profile = { ...model.profile, thresholds };
  return {
    info: model.info,
    schema: model.schema,
    profile,
    scoreRecord: (f) => model.scoreRecord(f),
    scoreRecords: (r) => model.scoreRecords(r),
    scoreTable: (t) => model.scoreTable(t),
  };
}

async function watch(model: ChurnModel, seed: number, shift?: PeriodShift): Promise<WindowAnalysis> {
  const monitor = createLiveMonitor({ getModel: () => model, window: { maxRows: ROWS }, cacheMs: 0 });
  const rows = [...generateCustomerRows({ rows: ROWS, seed, ...(shift ? { shift } : {}) })];
  const features: RawFeatures[] = rows.map((r) => {
    const f: RawFeatures = {};
    for (const n of NUMERIC_FEATURES) f[n] = Number.isNaN(r.numeric[n]) ? null : r.numeric[n];
    for (const c of CATEGORICAL_FEATURES) f[c] = r.categorical[c];
    return f;
  });
  const scores = model.scoreRecords(features);
  const records: PredictionRecord[] = rows.map((r, i) => ({
    id: `s${seed}-${i}`,
    createdAt: 1_700_000_000_000 + i,
    userId: r.userId,
    modelVersion: model.info.version,
    features: features[i]!,
    score: scores[i]!,
    predictedClass: scores[i]! >= model.info.threshold ? 1 : 0,
  }));
  monitor.observePredictions(records);
  monitor.observeFeedback(
    records.map((p, i) => ({
      status: 'joined' as const,
      feedbackId: `f${i}`,
      label: rows[i]!.churn,
      prediction: {
        id: p.id,
        createdAt: p.createdAt,
        modelVersion: p.modelVersion,
        score: p.score,
        predictedClass: p.predictedClass,
      },
      labelDelayMs: 1000,
    })),
  );
  const a = await monitor.analyze();
  assert.ok(a);
  return a;
}

const drifted = (a: WindowAnalysis) => a.drift.features.filter((f) => f.drifted).map((f) => f.feature);

describe('monitor scenarios', () => {
  let model: ChurnModel;
  let stable: WindowAnalysis;

  before(async () => {
    model = withCalibratedThresholds(await loadModel(join(await trainSmallModel(), 'latest')));
    stable = await watch(model, 101);
  });

  it('stable data: no feature drifts', () => {
    assert.equal(stable.rows, ROWS);
    assert.equal(stable.drift.judged, Object.keys(model.profile.features).length);
    assert.deepEqual(drifted(stable), []);
    assert.equal(stable.drift.datasetDrift, false);
  });

  it('MONTANT × 1.6: MONTANT drifts, few others do', async () => {
    const shifted = await watch(model, 102, { numericScale: { MONTANT: 1.6 } });
    const names = drifted(shifted);
    assert.ok(names.includes('MONTANT'), `drifted: ${names.join(', ')}`);
    assert.ok(names.length <= 3, `too many drifted features: ${names.join(', ')}`);
    const montant = shifted.drift.features.find((f) => f.feature === 'MONTANT')!;
    const stableMontant = stable.drift.features.find((f) => f.feature === 'MONTANT')!;
    assert.ok(montant.scores.psi! > 5 * stableMontant.scores.psi!, 'PSI grows well beyond the stable level');
  });

  it('concept drift: realized performance drops, input drift stays low, CBPE does not see it', async () => {
    const concept = await watch(model, 103, { conceptDrift: 1 });
    assert.ok(concept.realized && stable.realized && concept.estimated && stable.estimated);
    // The labels follow a different mechanism: what the model learnt ranks them much worse.
    assert.ok(
      concept.realized.rocAuc < stable.realized.rocAuc - 0.1,
      `ROC AUC ${concept.realized.rocAuc} vs ${stable.realized.rocAuc}`,
    );
    assert.ok(
      concept.realized.f1 < stable.realized.f1 - 0.05,
      `F1 ${concept.realized.f1} vs ${stable.realized.f1}`,
    );
    // The inputs did not change.
    assert.ok(drifted(concept).length <= 1, `drifted: ${drifted(concept).join(', ')}`);
    // CBPE only sees scores: its estimate stays where the stable period's is.
    assert.ok(Math.abs(concept.estimated.f1 - stable.estimated.f1) < 0.03);
    assert.ok(Math.abs(concept.estimated.rocAuc - stable.estimated.rocAuc) < 0.03);
    // And so it overestimates the concept-drift period's realized performance.
    assert.ok(concept.estimated.rocAuc - concept.realized.rocAuc > 0.1);
  });
});
