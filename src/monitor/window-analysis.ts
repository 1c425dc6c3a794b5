/**
 * Everything the monitor reports about one set of predictions (a live window or a chunk of the stored
 * log): drift per feature and of the score (drift-policy.ts), data quality, performance estimated from
 * calibrated scores alone (CBPE) and realized from the joined labels, label coverage and delay. The live
 * gauges, `churnwatch monitor serve` and the chunked analysis all call this one function, so the same
 * rows give the same numbers everywhere.
 */
import type { ReferenceProfile } from '../model/reference-profile-types.js';
import { type EstimatedPerformance, estimatePerformance } from '../stats/cbpe.js';
import { cbpeCalibrator } from '../stats/cbpe-calibration.js';
import { type ClassificationMetrics, classificationMetrics } from '../stats/classification.js';
import { quantileSorted, sortedWithoutNaN } from '../stats/quantiles.js';
import { DEFAULT_DATA_QUALITY, evaluateDataQuality, type FeatureQuality } from './data-quality.js';
import {
  DEFAULT_DRIFT_POLICY,
  type DriftEvaluation,
  type DriftPolicyOptions,
  evaluateDrift,
} from './drift-policy.js';
import type { WindowData } from './windows.js';

export interface LabelDelaySummary {
  readonly medianSeconds: number;
  readonly p90Seconds: number;
}

export interface WindowAnalysis {
  readonly modelVersion: string;
  readonly rows: number;
  readonly labeled: number;
  /** labeled / rows (0 for an empty window). */
  readonly labelCoverage: number;
  readonly from: number;
  readonly to: number;
  readonly drift: DriftEvaluation;
  readonly quality: FeatureQuality[];
  /**
   * CBPE from the scores of every row, calibrated by the profile's CBPE calibration, with each row's
   * stored class as ŷ (the one the expected-confusion counters add by: the threshold rule for served
   * predictions, the class a /log record gave); undefined for an empty window.
   */
  readonly estimated: EstimatedPerformance | undefined;
  /**
   * From labeled rows only ("no label yet" is never "no churn"), class metrics with the stored class as
   * ŷ (as the realized-confusion counters); undefined without labels.
   */
  readonly realized: ClassificationMetrics | undefined;
  readonly labelDelay: LabelDelaySummary | undefined;
}

export interface AnalysisModel {
  readonly version: string;
  readonly threshold: number;
  readonly profile: ReferenceProfile;
}

/**
 * Analyses one window. Cost O(bins · features) for the binned statistics, O(m log m) for KS and
 * Wasserstein on the m raw values kept, O(n log n) for the ROC AUCs.
 */
export function analyzeWindow(
  model: AnalysisModel,
  data: WindowData,
  policy: Readonly<DriftPolicyOptions> = DEFAULT_DRIFT_POLICY,
): WindowAnalysis {
  const drift = evaluateDrift(model.profile, data.drift, policy);
  const quality = evaluateDataQuality(model.profile.features, data.drift, undefined, DEFAULT_DATA_QUALITY);
  const estimated =
    data.rows > 0
      ? estimatePerformance(data.score, data.predictedClass, cbpeCalibrator(model.profile.cbpe))
      : undefined;

  let labeled = 0;
  for (let i = 0; i < data.rows; i++) if (data.label[i] !== -1) labeled++;
  let realized: ClassificationMetrics | undefined;
  let labelDelay: LabelDelaySummary | undefined;
  if (labeled > 0) {
    const y = new Uint8Array(labeled);
    const s = new Float64Array(labeled);
    const classes = new Uint8Array(labeled);
    const delays = new Float64Array(labeled);
    for (let i = 0, k = 0; i < data.rows; i++) {
      const l = data.label[i]!;
      if (l === -1) continue;
      y[k] = l;
      s[k] = data.score[i]!;
      classes[k] = data.predictedClass[i]!;
      delays[k] = data.labelDelayMs[i]!;
      k++;
    }
    realized = classificationMetrics(y, s, classes);
    const sortedDelays = sortedWithoutNaN(delays);
    if (sortedDelays.length > 0) {
      labelDelay = {
        medianSeconds: quantileSorted(sortedDelays, 0.5) / 1000,
        p90Seconds: quantileSorted(sortedDelays, 0.9) / 1000,
      };
    }
  }
  return {
    modelVersion: data.modelVersion,
    rows: data.rows,
    labeled,
    labelCoverage: data.rows === 0 ? 0 : labeled / data.rows,
    from: data.from,
    to: data.to,
    drift,
    quality,
    estimated,
    realized,
    labelDelay,
  };
}
