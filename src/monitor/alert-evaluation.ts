/**
 * The window alerts of alert-definitions.ts evaluated on one monitored window (its WindowAnalysis), the
 * way the Prometheus rules evaluate them on the recorded series of their time window: same statistics
 * (PSI on the reference bins, missing share, realized and CBPE accuracy/F1), same thresholds, same row
 * minimums. `AlertHold` then applies each alert's `for` as Prometheus does: a condition that starts to
 * hold makes the alert pending, and it fires once it has held for `for`.
 *
 * The window differs: Prometheus looks at the last `ALERT_WINDOW` of counters, this at the monitor's
 * window (the last N predictions). test/integration/alert-agreement.test.ts checks that on one window
 * both give the same verdicts.
 */
import {
  ALERT_DEFINITIONS,
  ALERT_WINDOW,
  type AlertDefinitions,
  type AlertSeverity,
  durationMs,
  type WINDOW_ALERTS,
} from './alert-definitions.js';
import type { FeatureDriftResult } from './drift-policy.js';
import type { WindowAnalysis } from './window-analysis.js';

export type WindowAlertKey = (typeof WINDOW_ALERTS)[number];

export interface AlertWindowInput {
  readonly analysis: WindowAnalysis;
  /** The served model's validation accuracy and F1 (churnwatch_model_validation_metric). */
  readonly validation: { readonly accuracy: number; readonly f1: number };
  /** When a label last joined a prediction (ms), as far as known; undefined when none is known. */
  readonly lastLabelAt: number | undefined;
  readonly now: number;
}

/** One alert's condition on one window. */
export interface AlertCondition {
  readonly key: WindowAlertKey;
  readonly name: string;
  readonly severity: AlertSeverity;
  readonly for: string;
  /** false when the window has too few rows (or no data) for the condition: it cannot hold. */
  readonly judged: boolean;
  /** Where the condition holds (features, metrics, `score`, or `window`), with the offending value. */
  readonly active: readonly { readonly instance: string; readonly value: number }[];
  readonly detail: string;
}

const fixed = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/**
 * Evaluates every window alert on one window with the given definitions. Cost O(features).
 * @example evaluateWindowAlerts({ analysis, validation: { accuracy: 0.9, f1: 0.6 }, lastLabelAt, now })
 */
export function evaluateWindowAlerts(
  input: AlertWindowInput,
  definitions: AlertDefinitions = ALERT_DEFINITIONS,
  alertWindow: string = ALERT_WINDOW,
): AlertCondition[] {
  const { analysis: a, validation: v, now } = input;
  const condition = (
    key: WindowAlertKey,
    judged: boolean,
    active: AlertCondition['active'],
    detail: string,
  ): AlertCondition => {
    const d = definitions[key];
    return { key, name: d.name, severity: d.severity, for: d.for, judged, active, detail };
  };

  /** PSI above the exported threshold (calibrated, or the policy's), else the definition's default. */
  const drift = (key: 'featureDrift' | 'predictionDrift', results: readonly FeatureDriftResult[]) => {
    const { minWindowRows, defaultPsiThreshold } = definitions[key].params;
    const judged = results.filter((r) => r.rows >= minWindowRows && r.scores.psi !== undefined);
    const active = judged
      .filter((r) => r.scores.psi! > (r.thresholds.psi ?? defaultPsiThreshold))
      .map((r) => ({ instance: r.feature, value: r.scores.psi! }));
    const detail =
      judged.length === 0
        ? `fewer than ${minWindowRows} rows in the window`
        : active.length > 0
          ? active.map((x) => `${x.instance} PSI ${fixed(x.value)}`).join(', ')
          : `PSI within threshold (${judged.length} judged)`;
    return condition(key, judged.length > 0, active, detail);
  };

  const performance = (
    key: 'realizedPerformanceLow' | 'estimatedPerformanceLow',
    p: { readonly accuracy: number; readonly f1: number } | undefined,
    rows: number,
    minRows: number,
  ) => {
    const margin = definitions[key].params.margin;
    if (!p || rows < minRows)
      return condition(key, false, [], `${rows} of the ${minRows} rows needed in the window`);
    const active = (['accuracy', 'f1'] as const)
      .filter((m) => p[m] < v[m] - margin)
      .map((m) => ({ instance: m, value: p[m] }));
    const detail =
      active.length > 0
        ? active
            .map((x) => `${x.instance} ${fixed(x.value)} < ${fixed(v[x.instance])} − ${margin}`)
            .join(', ')
        : `accuracy ${fixed(p.accuracy)}, F1 ${fixed(p.f1)}: within ${margin} of validation`;
    return condition(key, true, active, detail);
  };

  const labels = definitions.labelsNotArriving.params;
  const flowing = a.rows > 0 && a.to > now - durationMs(alertWindow);
  const labelsLate =
    input.lastLabelAt === undefined || input.lastLabelAt <= now - durationMs(labels.labelsExpectedWithin);
  const lastLabel =
    input.lastLabelAt === undefined
      ? 'no label joined yet'
      : `last label joined ${Math.round((now - input.lastLabelAt) / 60_000)} min ago`;

  const missing = definitions.missingValueSpike.params;
  const missingJudged = a.quality.filter((q) => q.rows >= missing.minWindowRows);
  const spikes = missingJudged
    .filter((q) => q.missingShare > q.referenceMissingShare + missing.margin)
    .map((q) => ({ instance: q.feature, value: q.missingShare }));
  const shareOf = new Map(a.quality.map((q) => [q.feature, q.referenceMissingShare]));

  return [
    drift('featureDrift', a.drift.features),
    drift('predictionDrift', a.drift.score ? [a.drift.score] : []),
    performance(
      'realizedPerformanceLow',
      a.realized,
      a.labeled,
      definitions.realizedPerformanceLow.params.minLabeledRows,
    ),
    performance(
      'estimatedPerformanceLow',
      a.estimated,
      a.estimated?.rows ?? 0,
      definitions.estimatedPerformanceLow.params.minWindowRows,
    ),
    condition(
      'labelsNotArriving',
      flowing,
      flowing && labelsLate ? [{ instance: 'window', value: a.rows }] : [],
      flowing
        ? `${lastLabel}; ${pct(a.labelCoverage)} of the window labelled`
        : `no prediction in the last ${alertWindow}`,
    ),
    condition(
      'missingValueSpike',
      missingJudged.length > 0,
      spikes,
      missingJudged.length === 0
        ? `fewer than ${missing.minWindowRows} rows in the window`
        : spikes.length > 0
          ? spikes
              .map((x) => `${x.instance} ${pct(x.value)} (training ${pct(shareOf.get(x.instance) ?? 0)})`)
              .join(', ')
          : `missing shares within ${missing.margin} of training`,
    ),
  ];
}

export type AlertStateName = 'firing' | 'pending' | 'ok' | 'no data';

export interface AlertStatus {
  readonly name: string;
  readonly severity: AlertSeverity;
  readonly for: string;
  readonly state: AlertStateName;
  /** Since when the oldest still-active instance has held (ms), when pending or firing. */
  readonly activeSince: number | undefined;
  readonly detail: string;
}

/**
 * Applies `for` to successive evaluations, as Prometheus does per alert and label set: an instance
 * becomes active at the first evaluation where its condition holds, fires once `now − activeAt ≥ for`,
 * and is forgotten at the first evaluation where it does not hold. Evaluations more than `maxGapMs`
 * apart forget everything (nobody watched in between, so nobody knows whether the condition held).
 */
export class AlertHold {
  private readonly activeAt = new Map<string, number>();
  private last: number | undefined;

  constructor(private readonly maxGapMs = 5 * 60_000) {}

  update(conditions: readonly AlertCondition[], now: number): AlertStatus[] {
    if (this.last !== undefined && now - this.last > this.maxGapMs) this.activeAt.clear();
    this.last = now;
    const seen = new Set<string>();
    const out = conditions.map((c): AlertStatus => {
      let since: number | undefined;
      let firing = false;
      for (const { instance } of c.active) {
        const id = `${c.name}\u0000${instance}`;
        seen.add(id);
        const at = this.activeAt.get(id) ?? now;
        this.activeAt.set(id, at);
        since = since === undefined ? at : Math.min(since, at);
        if (now - at >= durationMs(c.for)) firing = true;
      }
      const state: AlertStateName = firing
        ? 'firing'
        : since !== undefined
          ? 'pending'
          : c.judged
            ? 'ok'
            : 'no data';
      const detail =
        state === 'pending'
          ? `${c.detail} (condition met for ${Math.round((now - since!) / 1000)} s of ${c.for})`
          : c.detail;
      return { name: c.name, severity: c.severity, for: c.for, state, activeSince: since, detail };
    });
    for (const id of [...this.activeAt.keys()]) if (!seen.has(id)) this.activeAt.delete(id);
    return out;
  }
}
