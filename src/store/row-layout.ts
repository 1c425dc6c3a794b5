/**
 * Where the values of a prediction live in PredictionRows (prediction-store.ts): the fixed values and
 * one value per feature of the model's schema, numeric features first, then categorical ones, each in
 * schema order. The features are data (the model's schema), not code: a RowLayout is made once per store
 * from them and every loop reads its arrays, never a Map, per row.
 */
import { EXPRESSO_SCHEMA } from '../data/dataset-schema.js';
import type { FeatureSpec } from '../data/feature-types.js';

/** The fixed values of a row, in insert order: the texts id, user_id, model_version and three numbers. */
export const FIXED_INSERT_COLUMNS = [
  'id',
  'created_at',
  'user_id',
  'model_version',
  'score',
  'predicted_class',
] as const;
/** Slots of the fixed values: texts (id, user_id, model_version) and numbers (created_at, score, class). */
export const ID_SLOT = 0;
export const USER_ID_SLOT = 1;
export const MODEL_VERSION_SLOT = 2;
export const CREATED_AT_SLOT = 0;
export const SCORE_SLOT = 1;
export const PREDICTED_CLASS_SLOT = 2;
/** Feature slots start after the three fixed values of their array. */
export const FIRST_FEATURE_SLOT = 3;

/** Where a store's PredictionRows keep each value; made by rowLayout from the model's features. */
export interface RowLayout {
  /** Numeric features, then categorical ones, each in the order given: the features of a row. */
  readonly features: readonly FeatureSpec[];
  /** The feature names in the order given (the schema's file order): the order columns are read in. */
  readonly given: readonly string[];
  readonly numericNames: readonly string[];
  readonly categoricalNames: readonly string[];
  /** What insert value c is: FIXED_INSERT_COLUMNS, then the feature names. */
  readonly names: readonly string[];
  /** Per insert value: 1 when it lives in the texts, 0 in the numbers. */
  readonly slotText: Uint8Array;
  /** Per insert value: its place in its array's part of a row. */
  readonly slotAt: Int32Array;
  /** Numbers per row: 3 + the numeric features. */
  readonly numberWidth: number;
  /** Texts per row: 3 + the categorical features. */
  readonly textWidth: number;
}

/**
 * The layout of rows for these features. A feature named twice is refused here, where every writer
 * starts: two values for one column could not both be stored.
 */
export function rowLayout(features: readonly FeatureSpec[]): RowLayout {
  const seen = new Set<string>();
  for (const f of features) {
    if (seen.has(f.name)) throw new TypeError(`feature "${f.name}" is named twice in the store's features`);
    seen.add(f.name);
  }
  const numeric = features.filter((f) => f.kind === 'numeric');
  const categorical = features.filter((f) => f.kind === 'categorical');
  const ordered = [...numeric, ...categorical];
  const names = [...FIXED_INSERT_COLUMNS, ...ordered.map((f) => f.name)];
  const slotText = new Uint8Array(names.length);
  const slotAt = new Int32Array(names.length);
  const fixedText = [1, 0, 1, 1, 0, 0];
  const fixedAt = [
    ID_SLOT,
    CREATED_AT_SLOT,
    USER_ID_SLOT,
    MODEL_VERSION_SLOT,
    SCORE_SLOT,
    PREDICTED_CLASS_SLOT,
  ];
  fixedText.forEach((text, c) => {
    slotText[c] = text;
    slotAt[c] = fixedAt[c]!;
  });
  ordered.forEach((f, i) => {
    const c = FIXED_INSERT_COLUMNS.length + i;
    const text = f.kind === 'categorical';
    slotText[c] = text ? 1 : 0;
    slotAt[c] = FIRST_FEATURE_SLOT + (text ? i - numeric.length : i);
  });
  return {
    features: ordered,
    given: features.map((f) => f.name),
    numericNames: numeric.map((f) => f.name),
    categoricalNames: categorical.map((f) => f.name),
    names,
    slotText,
    slotAt,
    numberWidth: FIRST_FEATURE_SLOT + numeric.length,
    textWidth: FIRST_FEATURE_SLOT + categorical.length,
  };
}

/** Expresso's 17 features: the default of every store, so callers that name no schema keep working. */
export const EXPRESSO_FEATURES: readonly FeatureSpec[] = EXPRESSO_SCHEMA.features.map((f) => ({
  name: f.name,
  kind: f.kind,
}));
export const EXPRESSO_ROWS: RowLayout = rowLayout(EXPRESSO_FEATURES);
