/**
 * What the drift rules need from the model artifact, exported by every API replica: the calibrated
 * thresholds per feature (and score) and statistic, the window size they were calibrated for, and the
 * reference rows of each feature. With these the Prometheus rules compute a feature's threshold for their
 * own window (the drift policy's `thresholdsForRows`, in PromQL) without the monitor role: stopping
 * `churnwatch monitor serve` no longer drops the rules to a generic constant (issue 19).
 *
 * Series are bounded by the model's features × the statistics the rules compute (PSI, Jensen-Shannon:
 * KS and Wasserstein need raw values, which only the monitor has); they are replaced with the model.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ChurnModel } from '../model/churn-model.js';
import type { DriftStatisticName, ReferenceProfile } from '../model/reference-profile-types.js';
import { METRICS } from './catalogue.js';

/** The statistics the Prometheus rules compute, hence the thresholds they need. */
const RULE_STATISTICS: readonly DriftStatisticName[] = ['psi', 'jensen_shannon'];

export interface LabelledValue {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface DriftCalibrationSeries {
  readonly thresholds: readonly LabelledValue[];
  /** Absent when the artifact carries no calibration (older artifacts). */
  readonly windowRows?: LabelledValue;
  readonly referenceRows: readonly LabelledValue[];
}

/** The series of one model, as the gauges export them (tests build Prometheus input from this too). */
export function driftCalibrationSeries(
  version: string,
  profile: Pick<ReferenceProfile, 'features' | 'score' | 'thresholds'>,
): DriftCalibrationSeries {
  const mv = { model_version: version };
  const thresholds: LabelledValue[] = [];
  const calibration = profile.thresholds;
  for (const [feature, byStatistic] of Object.entries(calibration?.byFeature ?? {}))
    for (const method of RULE_STATISTICS) {
      const value = byStatistic[method];
      if (value !== undefined && Number.isFinite(value))
        thresholds.push({ labels: { ...mv, feature, method }, value });
    }
  const referenceRows: LabelledValue[] = Object.entries(profile.features).map(([feature, fp]) => ({
    labels: { ...mv, feature },
    value: fp.count,
  }));
  referenceRows.push({ labels: { ...mv, feature: 'score' }, value: profile.score.count });
  return calibration
    ? { thresholds, referenceRows, windowRows: { labels: mv, value: calibration.windowSize } }
    : { thresholds, referenceRows };
}

/** Registers the three gauges; `useModel` points them at the model served now. */
export function registerDriftCalibrationGauges(registry: Registry): { useModel(model: ChurnModel): void } {
  const gauge = (spec: { name: string; help: string; labelNames: readonly string[] }) =>
    new Gauge({ name: spec.name, help: spec.help, labelNames: [...spec.labelNames], registers: [registry] });
  const thresholds = gauge(METRICS.driftCalibratedThreshold);
  const windowRows = gauge(METRICS.driftCalibrationWindowRows);
  const referenceRows = gauge(METRICS.featureReferenceRows);
  return {
    useModel(model) {
      const series = driftCalibrationSeries(model.info.version, model.profile);
      for (const g of [thresholds, windowRows, referenceRows]) g.reset();
      for (const s of series.thresholds) thresholds.set(s.labels, s.value);
      if (series.windowRows) windowRows.set(series.windowRows.labels, series.windowRows.value);
      for (const s of series.referenceRows) referenceRows.set(s.labels, s.value);
    },
  };
}
