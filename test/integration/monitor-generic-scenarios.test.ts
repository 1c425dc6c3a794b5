/**
 * A drift scenario on a model that is not Expresso, watched by the in-process monitor (no server): the
 * simulators' generic plan (scenario-plan.ts) picks the most important numeric feature of the model
 * trained on the generated table with awkward names, sudden-drift scales it, and the monitor flags it
 * over its calibrated threshold while the other features mostly stay under theirs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRng } from '../../src/data/rng.js';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import { createLiveMonitor } from '../../src/monitor/live-monitor.js';
import type { WindowAnalysis } from '../../src/monitor/window-analysis.js';
import { loadReplayModel } from '../../src/simulate/replay-model.js';
import { planScenarios } from '../../src/simulate/scenario-plan.js';
import { applyShift, getScenario, type ScenarioPlan } from '../../src/simulate/scenarios.js';
import type { PredictionRecord } from '../../src/store/prediction-store.js';
import { generateGenericData } from '../helpers/generic-data.js';
import { trainGenericModel } from '../helpers/train-generic-model.js';

const WINDOW = 1000;
const SHAPE = { numeric: 6, categorical: 4 } as const;

async function watch(model: ChurnModel, plan: ScenarioPlan, scenario: string, seed: number) {
  const monitor = createLiveMonitor({ getModel: () => model, window: { maxRows: WINDOW }, cacheMs: 0 });
  const data = generateGenericData({ rows: WINDOW, ...SHAPE, seed });
  const shift = getScenario(scenario, plan).shiftAt(0);
  const rows = data.records.map((features, i) =>
    applyShift(
      { userId: data.ids[i]!, features, churn: data.labels[i] === 'Yes' ? 1 : 0 },
      shift,
      createRng(seed, i),
      plan,
    ),
  );
  const scores = model.scoreRecords(rows.map((r) => r.features));
  const records: PredictionRecord[] = rows.map((r, i) => ({
    id: `${seed}-${i}`,
    createdAt: 1_700_000_000_000 + i,
    userId: r.userId,
    modelVersion: model.info.version,
    features: r.features,
    score: scores[i]!,
    predictedClass: scores[i]! >= model.info.threshold ? 1 : 0,
  }));
  monitor.observePredictions(records);
  const analysis = await monitor.analyze();
  assert.ok(analysis);
  return analysis;
}

const drifted = (a: WindowAnalysis) => a.drift.features.filter((f) => f.drifted).map((f) => f.feature);

describe('a drift scenario on a generic model, in the in-process monitor', () => {
  let dir: string;
  let model: ChurnModel;
  let plan: ScenarioPlan;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'churnwatch-generic-monitor-'));
    // Thresholds calibrated on windows of the size watched here, from 2,000 validation rows.
    const generic = await trainGenericModel(dir, {
      rows: 8000,
      ...SHAPE,
      seed: 5,
      trees: 20,
      windowSize: WINDOW,
    });
    model = await loadModel(generic.modelDir);
    plan = planScenarios(await loadReplayModel(generic.modelDir));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the plan drifts one of the signal-carrying numeric features and says so', () => {
    assert.equal(plan.drift.length, 1);
    assert.ok(['tenure months', 'Monthly-Charges', '2024_spend'].includes(plan.drift[0]!), plan.drift[0]);
    assert.match(getScenario('sudden-drift', plan).summary, new RegExp(`^${plan.drift[0]} ×3 for every row`));
  });

  it('stable: few features drift; sudden-drift: the chosen feature goes over its calibrated threshold', async () => {
    const stable = await watch(model, plan, 'stable', 101);
    assert.equal(stable.rows, WINDOW);
    assert.ok(drifted(stable).length <= 1, `stable drifted: ${drifted(stable).join(', ')}`);
    const shifted = await watch(model, plan, 'sudden-drift', 102);
    const name = plan.drift[0]!;
    const result = shifted.drift.features.find((f) => f.feature === name);
    assert.ok(result, `no verdict for ${name}`);
    assert.equal(result.thresholdSource, 'calibrated');
    assert.equal(
      result.drifted,
      true,
      `${name}: ${JSON.stringify(result.scores)} vs ${JSON.stringify(result.thresholds)}`,
    );
    const others = drifted(shifted).filter((f) => f !== name);
    assert.ok(others.length <= 1, `others drifted too: ${others.join(', ')}`);
  });
});
