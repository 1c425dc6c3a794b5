/**
 * The shapes every part shares for one record's features, whatever the data set: the feature names come
 * from the model's schema (dataset-schema.ts), never from code.
 */

export type FeatureKind = 'numeric' | 'categorical';

/** One feature: its name as in the training CSV header, and how it is read. */
export interface FeatureSpec {
  readonly name: string;
  readonly kind: FeatureKind;
}

/** One feature value: a number (numeric), a string (categorical), null or absent when missing. */
export type FeatureValue = number | string | null | undefined;

/**
 * One record's raw features as they arrive over HTTP or from a CSV row, keyed by the schema's feature
 * names: numbers for numeric features, strings for categorical ones, null (or absent) when missing.
 */
export type RawFeatures = Record<string, FeatureValue>;
