/**
 * One source for every alert, checked by behaviour: for each window below, the Prometheus alerting rules
 * (deploy/prometheus/rules, generated from monitor/alert-definitions.ts) run by promtool on series made
 * from the window, and the dashboard's evaluator (monitor/alert-evaluation.ts with AlertHold) on the
 * same window, give the same pending and firing alerts, per feature and metric, at the same times.
 *
 * The series are what the server and the monitor export for the window's rows: counters that grow
 * evenly so that increase(…[1h]) is the window's counts from minute 60 on, and the gauges every alert
 * joins with (reference shares, drift thresholds, validation metrics) appearing at minute 60. So every
 * condition starts to hold at minute 60 on both sides, and `for` is counted from there.
 *
 * Each window runs twice: with the monitor role's gauges, and without them (the monitor is down): the
 * rules take the calibrated thresholds every API replica exports, so the verdicts must not change.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { driftCalibrationSeries } from '../../src/metrics/drift-calibration-gauges.js';
import { createNumericBinning, numericBinIndex } from '../../src/model/reference-bins.js';
import type {
  CategoricalFeatureProfile,
  NumericFeatureProfile,
  ReferenceProfile,
} from '../../src/model/reference-profile-types.js';
import { ALERT_DEFINITIONS, WINDOW_ALERTS } from '../../src/monitor/alert-definitions.js';
import { AlertHold, type AlertStatus, evaluateWindowAlerts } from '../../src/monitor/alert-evaluation.js';
import { type AnalysisModel, analyzeWindow, type WindowAnalysis } from '../../src/monitor/window-analysis.js';
import type { WindowData } from '../../src/monitor/windows.js';
import { PROMTOOL, requireBinary } from '../helpers/external-binary.js';
import { repoRoot } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

const MINUTE = 60_000;
/** Minute at which the windows are full and the joined gauges appear: conditions start to hold here. */
const START = 60;
/** Minutes of series. */
const END = 100;
/** Checked minutes: every active alert pending (all `for` ≥ 15m), then every active alert firing (all ≤ 30m). */
const CHECKS = [START + 5, START + 35];
const VERSION = 'v1';
const VALIDATION = { accuracy: 0.85, f1: 0.6 };

function categorical(feature: string, categories: string[], shares: number[]): CategoricalFeatureProfile {
  const labels = [...categories, 'other', 'unseen', 'missing'];
  return {
    kind: 'categorical',
    feature,
    categories,
    seen: categories,
    labels,
    count: 10_000,
    shares,
    missingShare: shares[labels.length - 1]!,
  };
}

const scoreBinning = createNumericBinning('score', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], 0, 1);
const scoreProfile: NumericFeatureProfile = {
  ...scoreBinning,
  count: 10_000,
  // below, ten deciles, above, missing
  shares: [0, 0.25, 0.2, 0.15, 0.1, 0.08, 0.07, 0.06, 0.04, 0.03, 0.02, 0, 0],
  missingShare: 0,
  mean: 0.3,
  std: 0.2,
};

const profile: ReferenceProfile = {
  formatVersion: 1,
  rowCount: 10_000,
  classBalance: { negatives: 8000, positives: 2000, churnRate: 0.2 },
  features: {
    REGION: categorical('REGION', ['DAKAR', 'THIES'], [0.5, 0.3, 0.1, 0, 0.1]),
    TENURE: categorical('TENURE', ['K', 'I'], [0.7, 0.2, 0.05, 0, 0.05]),
  },
  score: scoreProfile,
  predictedChurnRate: 0.2,
  // REGION has a calibrated PSI threshold; TENURE and the score use the policy's fallback.
  thresholds: { windowSize: 1000, windows: 100, rule: 'test', byFeature: { REGION: { psi: 0.15 } } },
};
const model: AnalysisModel = { version: VERSION, threshold: 0.5, profile };

interface Scenario {
  readonly name: string;
  readonly rows: number;
  /** Shares of each feature's bins in the window (profile order). */
  readonly shares: Readonly<Record<string, readonly number[]>>;
  /** Score of row i (a deterministic spread). */
  score(i: number): number;
  /** Label of row i: -1 none, else 0/1. */
  label(i: number, score: number): -1 | 0 | 1;
  readonly labelsArriving: boolean;
}

/** Scores of row i spread as the reference's: the middle of the score bin its rank falls in. */
function referenceScore(i: number, rows: number): number {
  let cumulative = 0;
  for (let b = 1; b <= 10; b++) {
    cumulative += scoreProfile.shares[b]!;
    if ((i + 0.5) / rows < cumulative) return (b - 0.5) / 10;
  }
  return 0.95;
}

const spread = (i: number, rows: number, lo: number, hi: number) =>
  lo + ((i * 7919) % rows) * ((hi - lo) / rows);

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'stable, labels arriving, performance as in validation',
    rows: 1000,
    shares: { REGION: [0.5, 0.3, 0.1, 0, 0.1], TENURE: [0.7, 0.2, 0.05, 0, 0.05] },
    score: (i) => referenceScore(i, 1000),
    label: (i, s) => (i % 3 === 0 ? -1 : s >= 0.5 ? 1 : 0),
    labelsArriving: true,
  },
  {
    name: 'drift, missing spike, score drift, no labels',
    rows: 1000,
    shares: { REGION: [0.2, 0.3, 0.1, 0.3, 0.1], TENURE: [0.55, 0.2, 0.05, 0, 0.2] },
    score: (i) => spread(i, 1000, 0.3, 0.7),
    label: () => -1,
    labelsArriving: false,
  },
  {
    name: 'the same drift and bad labels in a window too small to judge',
    rows: 400,
    shares: { REGION: [0.2, 0.3, 0.1, 0.3, 0.1], TENURE: [0.5, 0.2, 0.05, 0, 0.25] },
    score: (i) => spread(i, 400, 0.3, 0.7),
    // 134 labels, none matching the predictions: below the 200 labelled rows realized performance needs.
    label: (i) => (i % 3 !== 0 ? -1 : i % 2 === 0 ? 1 : 0),
    labelsArriving: true,
  },
  {
    name: 'realized and estimated performance low; TENURE missing 8 points up, under the 10-point margin',
    rows: 900,
    shares: { REGION: [0.45, 0.3, 0.15, 0, 0.1], TENURE: [0.62, 0.2, 0.05, 0, 0.13] },
    score: (i) => spread(i, 900, 0.35, 0.65),
    label: (i) => (i % 4 === 0 ? -1 : i % 2 === 0 ? 1 : 0),
    labelsArriving: true,
  },
  {
    // PSI ≈ 0.19: above REGION's calibrated 0.15 (× 1.01 for 900 rows), below the generic 0.2.
    name: 'REGION between its calibrated threshold and the generic constant',
    rows: 900,
    shares: { REGION: [0.35, 0.3, 0.25, 0, 0.1], TENURE: [0.7, 0.2, 0.05, 0, 0.05] },
    score: (i) => referenceScore(i, 900),
    label: (i, s) => (i % 3 === 0 ? -1 : s >= 0.5 ? 1 : 0),
    labelsArriving: true,
  },
  {
    // The same shift in 600 rows: the calibrated threshold scales to 0.15 × 1.61 ≈ 0.24, no drift.
    name: 'the same REGION shift in a smaller window, under the scaled threshold',
    rows: 600,
    shares: { REGION: [0.35, 0.3, 0.25, 0, 0.1], TENURE: [0.7, 0.2, 0.05, 0, 0.05] },
    score: (i) => referenceScore(i, 600),
    label: (i, s) => (i % 3 === 0 ? -1 : s >= 0.5 ? 1 : 0),
    labelsArriving: true,
  },
];

/** Rows → the window the monitor holds (bin counts computed from the shares and scores). */
function windowData(s: Scenario): WindowData {
  const score = Float64Array.from({ length: s.rows }, (_, i) => s.score(i));
  const label = Int8Array.from(score, (v, i) => s.label(i, v));
  const scoreCounts = new Float64Array(scoreProfile.labels.length);
  for (const v of score) scoreCounts[numericBinIndex(scoreBinning, v)]! += 1;
  const features = Object.fromEntries(
    Object.entries(s.shares).map(([f, shares]) => [
      f,
      { binCounts: Float64Array.from(shares, (x) => Math.round(x * s.rows)) },
    ]),
  );
  return {
    modelVersion: VERSION,
    rows: s.rows,
    from: (END - 30) * MINUTE,
    to: END * MINUTE,
    score,
    predictedClass: Uint8Array.from(score, (v) => (v >= model.threshold ? 1 : 0)),
    label,
    labelDelayMs: Float64Array.from(label, (l) => (l === -1 ? Number.NaN : 60_000)),
    drift: { rows: s.rows, features, score: { binCounts: scoreCounts } },
  };
}

/** A counter whose increase over the last hour is `total` from minute 60 on. */
const counter = (total: number) => `0+${total / 60}x${END}`;
/** A gauge that exists from minute START on. */
const gauge = (value: number) => `_x${START} ${value}x${END - START}`;

/** The series the server (every replica) and, when `monitorUp`, the monitor role export for this window. */
function inputSeries(
  s: Scenario,
  data: WindowData,
  a: WindowAnalysis,
  monitorUp: boolean,
): { series: string; values: string }[] {
  const out: { series: string; values: string }[] = [];
  const add = (name: string, labels: Record<string, string>, values: string) =>
    out.push({
      series: `${name}{${Object.entries({
        job: 'churnwatch-api',
        instance: 'api:8000',
        model_version: VERSION,
        ...labels,
      })
        .map(([k, v]) => `${k}="${v}"`)
        .join(', ')}}`,
      values,
    });
  // What every API replica exports from the artifact (drift-calibration-gauges.ts).
  const calibration = driftCalibrationSeries(VERSION, profile);
  for (const x of calibration.thresholds)
    add('churnwatch_drift_calibrated_threshold', x.labels, gauge(x.value));
  for (const x of calibration.referenceRows)
    add('churnwatch_feature_reference_rows', x.labels, gauge(x.value));
  if (calibration.windowRows)
    add('churnwatch_drift_calibration_window_rows', {}, gauge(calibration.windowRows.value));
  for (const [feature, fp] of Object.entries(profile.features)) {
    const counts = data.drift.features[feature]!.binCounts;
    fp.labels.forEach((bin, i) => {
      add('churnwatch_feature_reference_ratio', { feature, bin }, gauge(fp.shares[i]!));
      if (counts[i]! > 0) add('churnwatch_feature_values_total', { feature, bin }, counter(counts[i]!));
    });
  }
  const scoreCounts = data.drift.score!.binCounts;
  scoreProfile.labels.forEach((bin, i) => {
    add('churnwatch_score_reference_ratio', { bin }, gauge(scoreProfile.shares[i]!));
    if (scoreCounts[i]! > 0) add('churnwatch_score_values_total', { bin }, counter(scoreCounts[i]!));
  });
  for (const r of monitorUp ? [...a.drift.features, a.drift.score!] : [])
    if (r.thresholds.psi !== undefined)
      add('churnwatch_drift_threshold', { feature: r.feature, method: 'psi' }, gauge(r.thresholds.psi));
  for (const [metric, value] of Object.entries(VALIDATION))
    add('churnwatch_model_validation_metric', { metric }, gauge(value));
  for (const [kind, confusion] of [
    ['expected', a.estimated?.confusion],
    ['realized', a.realized?.confusion],
  ] as const)
    for (const [outcome, count] of Object.entries(confusion ?? {}))
      add(`churnwatch_${kind}_confusion_total`, { outcome }, counter(count));
  // Predictions flow from minute START − 1 on, so that increase() sees them at START.
  let predicted = 0;
  for (const c of data.predictedClass) predicted += c;
  for (const [cls, n] of [
    ['0', s.rows - predicted],
    ['1', predicted],
  ] as const)
    if (n > 0)
      add(
        'churnwatch_predictions_total',
        { predicted_class: cls },
        `_x${START - 1} 0+${n / 60}x${END - START + 1}`,
      );
  if (s.labelsArriving)
    out.push({
      series:
        'churnwatch_feedback_total{job="churnwatch-api", instance="api:8000", actual_class="1", status="joined"}',
      values: counter(a.labeled),
    });
  return out;
}

/** `{alertname="…", feature|metric="…"}` of an active alert instance, as `count by` prints it. */
function instanceLabels(status: AlertStatus, instance: string): string {
  const key = WINDOW_ALERTS.find((k) => ALERT_DEFINITIONS[k].name === status.name)!;
  const label =
    key === 'featureDrift' || key === 'missingValueSpike'
      ? `, feature="${instance}"`
      : key === 'realizedPerformanceLow' || key === 'estimatedPerformanceLow'
        ? `, metric="${instance}"`
        : '';
  return `{alertname="${status.name}"${label}}`;
}

describe('the Prometheus alert rules and the dashboard evaluator agree on the same window', () => {
  it('same pending and firing alerts, per instance, at the same minutes (promtool test rules)', async (t) => {
    const binary = requireBinary(t, PROMTOOL);
    if (!binary) return;
    const tests: unknown[] = [];
    const windowAlertNames = WINDOW_ALERTS.map((k) => ALERT_DEFINITIONS[k].name).join('|');
    const verdicts: string[] = [];
    for (const s of SCENARIOS) {
      const data = windowData(s);
      const analysis = analyzeWindow(model, data);
      // The dashboard side: one evaluation per minute from START, as Prometheus evaluates its rules.
      const hold = new AlertHold();
      const expected = new Map<number, { labels: string; value: number }[]>();
      for (let minute = START; minute <= CHECKS.at(-1)!; minute++) {
        const now = minute * MINUTE;
        const conditions = evaluateWindowAlerts({
          analysis,
          validation: VALIDATION,
          lastLabelAt: s.labelsArriving ? now : undefined,
          now,
        });
        const statuses = hold.update(conditions, now);
        if (!CHECKS.includes(minute)) continue;
        const samples: { labels: string; value: number }[] = [];
        statuses.forEach((status, i) => {
          if (status.state !== 'firing' && status.state !== 'pending') return;
          for (const { instance } of conditions[i]!.active) {
            samples.push({
              labels: instanceLabels(status, instance).replace('{', `{alertstate="${status.state}", `),
              value: 1,
            });
            verdicts.push(`${s.name} @${minute}m: ${status.name} ${instance} ${status.state}`);
          }
        });
        expected.set(minute, samples);
      }
      for (const monitorUp of [true, false])
        tests.push({
          name: `${s.name}${monitorUp ? '' : ' (monitor role down)'}`,
          interval: '1m',
          input_series: inputSeries(s, data, analysis, monitorUp),
          promql_expr_test: CHECKS.map((minute) => ({
            // Only the window alerts: the target alerts (API, monitor role down) have no dashboard side.
            expr: `count by (alertname, alertstate, feature, metric) (ALERTS{alertname=~"${windowAlertNames}"})`,
            eval_time: `${minute}m`,
            exp_samples: expected.get(minute),
          })),
        });
    }
    // The scenarios exercise every window alert, firing, somewhere (else agreement would be vacuous).
    for (const key of WINDOW_ALERTS) {
      const name = ALERT_DEFINITIONS[key].name;
      assert.ok(
        verdicts.some((v) => v.includes(` ${name} `) && v.endsWith('firing')),
        `no scenario fires ${name}:\n${verdicts.join('\n')}`,
      );
    }
    await withTempDir(async (dir) => {
      const file = join(dir, 'agreement.test.yml');
      await writeFile(
        file,
        stringify({
          rule_files: ['recording.yml', 'alerts.yml'].map((f) =>
            join(repoRoot, 'deploy', 'prometheus', 'rules', `churnwatch-${f}`),
          ),
          evaluation_interval: '1m',
          tests,
        }),
      );
      const run = spawnSync(binary, ['test', 'rules', file], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(
        run.status,
        0,
        `promtool disagrees with the dashboard evaluator:\n${run.stdout}${run.stderr}\n\ndashboard:\n${verdicts.join('\n')}`,
      );
    });
  });
});
