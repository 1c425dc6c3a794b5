/** Turns a read row (store-layout.ts) into a LoggedPrediction object (for small, paged reads). */
import type { RawFeatures } from '../data/feature-types.js';
import type { LoggedPrediction } from './prediction-store.js';
import {
  READ_CREATED_AT,
  READ_FIRST_FEATURE,
  READ_LABEL,
  READ_LABEL_OBSERVED_AT,
  READ_MODEL_VERSION,
  READ_PREDICTED_CLASS,
  READ_SCORE,
  type StoreLayout,
} from './store-layout.js';

/** Every registered feature is a key of `features`, null where the row has no value. */
export function rowToLoggedPrediction(layout: StoreLayout, row: readonly unknown[]): LoggedPrediction {
  const features: RawFeatures = {};
  const columns = layout.features;
  for (let f = 0; f < columns.length; f++) {
    features[columns[f]!.feature] = (row[READ_FIRST_FEATURE + f] ?? null) as number | string | null;
  }
  return {
    id: row[layout.readId] as string,
    createdAt: row[READ_CREATED_AT] as number,
    userId: (row[layout.readUserId] ?? null) as string | null,
    modelVersion: row[READ_MODEL_VERSION] as string,
    features,
    score: row[READ_SCORE] as number,
    predictedClass: row[READ_PREDICTED_CLASS] as 0 | 1,
    label: (row[READ_LABEL] ?? null) as 0 | 1 | null,
    labelObservedAt: (row[READ_LABEL_OBSERVED_AT] ?? null) as number | null,
  };
}
