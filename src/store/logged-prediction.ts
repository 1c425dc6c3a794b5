/** Turns a READ_COLUMNS array row into a LoggedPrediction object (for small, paged reads). */
import type { RawFeatures } from '../data/customer-schema.js';
import type { LoggedPrediction } from './prediction-store.js';
import { FEATURE_COLUMNS, READ_FIRST_FEATURE, READ_ID, READ_USER_ID } from './store-columns.js';

export function rowToLoggedPrediction(row: readonly unknown[]): LoggedPrediction {
  const features: RawFeatures = {};
  FEATURE_COLUMNS.forEach((spec, f) => {
    features[spec.feature] = (row[READ_FIRST_FEATURE + f] ?? null) as number | string | null;
  });
  return {
    id: row[READ_ID] as string,
    createdAt: row[0] as number,
    userId: (row[READ_USER_ID] ?? null) as string | null,
    modelVersion: row[5] as string,
    features,
    score: row[1] as number,
    predictedClass: row[2] as 0 | 1,
    label: (row[3] ?? null) as 0 | 1 | null,
    labelObservedAt: (row[4] ?? null) as number | null,
  };
}
