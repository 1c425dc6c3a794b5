/** Turns a READ_COLUMNS array row into a LoggedPrediction object (for small, paged reads). */
import type { RawFeatures } from '../data/feature-types.js';
import type { LoggedPrediction } from './prediction-store.js';
import {
  FEATURE_COLUMNS,
  READ_CREATED_AT,
  READ_FIRST_FEATURE,
  READ_ID,
  READ_LABEL,
  READ_LABEL_OBSERVED_AT,
  READ_MODEL_VERSION,
  READ_PREDICTED_CLASS,
  READ_SCORE,
  READ_USER_ID,
} from './store-columns.js';

export function rowToLoggedPrediction(row: readonly unknown[]): LoggedPrediction {
  const features: RawFeatures = {};
  FEATURE_COLUMNS.forEach((spec, f) => {
    features[spec.feature] = (row[READ_FIRST_FEATURE + f] ?? null) as number | string | null;
  });
  return {
    id: row[READ_ID] as string,
    createdAt: row[READ_CREATED_AT] as number,
    userId: (row[READ_USER_ID] ?? null) as string | null,
    modelVersion: row[READ_MODEL_VERSION] as string,
    features,
    score: row[READ_SCORE] as number,
    predictedClass: row[READ_PREDICTED_CLASS] as 0 | 1,
    label: (row[READ_LABEL] ?? null) as 0 | 1 | null,
    labelObservedAt: (row[READ_LABEL_OBSERVED_AT] ?? null) as number | null,
  };
}
