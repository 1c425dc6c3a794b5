/**
 * The Expresso Train.csv layout: 19 columns, the id, 17 features and the CHURN label.
 * Everything that needs to know the columns (reader, generator, model, server, metrics) imports them here.
 */

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
export type FeatureKind = 'numeric' | 'categorical';

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

export interface FeatureSpec {
  readonly name: FeatureName;
  readonly kind: FeatureKind;
}

/** The 17 model features in file order. */
export const FEATURES: readonly FeatureSpec[] = CSV_HEADER.filter(
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

/**
 * One customer's raw features as they arrive over HTTP or from a CSV row:
 * numbers for numeric features, strings for categorical ones, null (or absent) when missing.
 */
export type RawFeatures = Partial<Record<FeatureName, number | string | null>>;
