/**
 * The reference profile: what the training part looked like, made once at training time and stored
 * inside the model artifact (docs/model.md, "The artifact"). Serving, the Pushgateway push, the monitor and the
 * dashboards all compare live traffic against it.
 */
import type { CbpeCalibration } from '../stats/cbpe-calibration.js';
import type { CategoricalBinning, NumericBinning } from './reference-bins.js';

export interface NumericFeatureProfile extends NumericBinning {
  /** Rows in the reference (including missing). */
  readonly count: number;
  /** Share of each bin among all reference rows, aligned with `labels` (sums to 1). */
  readonly shares: readonly number[];
  readonly missingShare: number;
  /** Moments of the non-missing values (population std, ddof = 0). */
  readonly mean: number;
  readonly std: number;
  /**
   * A seeded uniform sample of the non-missing reference values (at most a few thousand), kept so that
   * KS and Wasserstein can be computed against the reference without the training file.
   */
  readonly sample?: readonly number[];
}

export interface CategoricalFeatureProfile extends CategoricalBinning {
  readonly count: number;
  readonly shares: readonly number[];
  readonly missingShare: number;
}

export type FeatureProfile = NumericFeatureProfile | CategoricalFeatureProfile;

/** Names of the drift statistics that carry calibrated thresholds. */
export type DriftStatisticName = 'psi' | 'jensen_shannon' | 'ks' | 'wasserstein_normed' | 'chi_square';

export interface DriftThresholds {
  /** The monitoring window size (rows) the thresholds were calibrated for. */
  readonly windowSize: number;
  /** How many reference windows were drawn. */
  readonly windows: number;
  /** The rule, e.g. "quantile 0.99 of reference windows" (documented in docs/drift.md). */
  readonly rule: string;
  /** Per feature (and `score`), per statistic: the threshold above which the window counts as drifted. */
  readonly byFeature: Readonly<Record<string, Partial<Record<DriftStatisticName, number>>>>;
}

export interface ReferenceProfile {
  readonly formatVersion: 1;
  readonly rowCount: number;
  readonly classBalance: {
    readonly negatives: number;
    readonly positives: number;
    readonly churnRate: number;
  };
  /** One entry per model feature, keyed by canonical feature name. */
  readonly features: Readonly<Record<string, FeatureProfile>>;
  /** The training-part score distribution (calibrated churn probability), binned like a numeric feature. */
  readonly score: NumericFeatureProfile;
  /** Share of reference rows predicted churn at the model threshold. */
  readonly predictedChurnRate: number;
  /** Calibrated drift thresholds; absent only in artifacts made before calibration ran. */
  readonly thresholds?: DriftThresholds;
  /**
   * How CBPE turns a score into the probability it estimates with (isotonic or none), chosen and fitted
   * on held-out labelled rows (docs/monitor.md, "Estimated performance"); absent in older artifacts,
   * which estimate with the scores as they are.
   */
  readonly cbpe?: CbpeCalibration;
}
