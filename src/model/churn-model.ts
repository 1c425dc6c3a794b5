/**
 * What serving needs from a trained model, whatever is inside the artifact. The model module
 * (gbdt-churn-model.ts, compiled-forest.ts, model-io.ts) implements it; server/, monitor/ and simulate/
 * only see this.
 */

import type { ColumnarTable } from '../data/columnar-table.js';
import type { DatasetSchema } from '../data/dataset-schema.js';
import type { RawFeatures } from '../data/feature-types.js';
import type { ReferenceProfile } from './reference-profile-types.js';

export interface ValidationMetrics {
  readonly rows: number;
  readonly rocAuc: number;
  readonly logLoss: number;
  readonly brier: number;
  readonly averagePrecision: number;
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly confusion: { readonly tp: number; readonly fp: number; readonly tn: number; readonly fn: number };
}

export interface ModelInfo {
  /** `<UTC timestamp>-<short content hash>`, e.g. `20261127T031500Z-3fa9c2d1`. */
  readonly version: string;
  /** ISO 8601 UTC. */
  readonly trainedAt: string;
  /** Churn is predicted when the calibrated probability is >= threshold. */
  readonly threshold: number;
  /** How the threshold was chosen, e.g. `max-f1-on-validation`. */
  readonly thresholdRule: string;
  readonly validation: ValidationMetrics;
  /** Total split gain per feature, normalised to sum to 1 (absent in artifacts that did not record it). */
  readonly featureImportance?: Readonly<Record<string, number>>;
}

export interface ChurnModel {
  readonly info: ModelInfo;
  /**
   * The data set's schema (id, target, features in file order): what the API accepts, the store keeps,
   * the metrics label and the monitor compares. Stored in the artifact beside the profile.
   */
  readonly schema: DatasetSchema;
  readonly profile: ReferenceProfile;
  /**
   * True for an artifact of `churnwatch profile` (monitor-only-model.ts): it monitors a model that
   * lives elsewhere, whose predictions arrive by POST /log; its scoring methods throw CW_MODEL_NO_SCORER.
   */
  readonly monitorOnly?: true;
  /** Calibrated churn probability for one record; missing and unseen values are scored, never rejected. */
  scoreRecord(features: RawFeatures): number;
  /** Calibrated probabilities for many records (no per-row allocation). */
  scoreRecords(records: readonly RawFeatures[]): Float64Array;
  /**
   * Calibrated probabilities for a columnar table: a CSV read, or a /predict batch's columns
   * (record-columns.ts); the same, to the bit, as scoreRecords of the same rows.
   */
  scoreTable(table: ColumnarTable): Float64Array;
}
