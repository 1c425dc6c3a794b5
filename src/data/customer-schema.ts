/**
 * The Expresso Train.csv layout: 19 columns, the id, 17 features and the CHURN label.
 * Only the Expresso preset (EXPRESSO_SCHEMA in dataset-schema.ts), its synthetic generator and its reader
 * import them: everything else reads the features from the model's schema.
 */
import type { FeatureSpec } from './feature-types.js';

export type { FeatureKind, FeatureSpec, RawFeatures } from './feature-types.js';

export const ID_COLUMN = 'user_id';
export const TARGET_COLUMN = 'CHURN';

export const NUMERIC_FEATURES = [
  'MONTANT',
  'FREQUENCE_RECH',
  'REVENUE',
  'ARPU_SEGMENT',
  'FREQUENCE',
  'DATA_VOLUME',
  'ON_NET',
  'ORANGE',
  'TIGO',
  'ZONE1',
  'ZONE2',
  'REGULARITY',
  'FREQ_TOP_PACK',
] as const;

export const CATEGORICAL_FEATURES = ['REGION', 'TENURE', 'MRG', 'TOP_PACK'] as const;

export type NumericFeature = (typeof NUMERIC_FEATURES)[number];
export type CategoricalFeature = (typeof CATEGORICAL_FEATURES)[number];
export type FeatureName = NumericFeature | CategoricalFeature;

/** The header of Train.csv, in file order. */
export const CSV_HEADER = [
  'user_id',
  'REGION',
  'TENURE',
  'MONTANT',
  'FREQUENCE_RECH',
  'REVENUE',
  'ARPU_SEGMENT',
  'FREQUENCE',
  'DATA_VOLUME',
  'ON_NET',
  'ORANGE',
  'TIGO',
  'ZONE1',
  'ZONE2',
  'MRG',
  'REGULARITY',
  'TOP_PACK',
  'FREQ_TOP_PACK',
  'CHURN',
] as const;

/** The 17 model features in file order. */
export const FEATURES: readonly (FeatureSpec & { readonly name: FeatureName })[] = CSV_HEADER.filter(
  (c) => c !== ID_COLUMN && c !== TARGET_COLUMN,
).map((name) => ({
  name: name as FeatureName,
  kind: (CATEGORICAL_FEATURES as readonly string[]).includes(name) ? 'categorical' : 'numeric',
}));

const featureByLowerName = new Map<string, FeatureName>(FEATURES.map((f) => [f.name.toLowerCase(), f.name]));

/** Maps `MONTANT` or `montant` to the canonical `MONTANT`; undefined for anything else. */
export function canonicalFeatureName(name: string): FeatureName | undefined {
  return featureByLowerName.get(name.toLowerCase());
}
