/**
 * Which schema feature each booster feature is, and how a categorical value becomes xgboost's
 * category code.
 *
 * Names: the booster's feature_names when it has them (each must be a schema feature, of the same kind:
 * 'c' categorical, 'q'/'float'/'int'/'i' numeric); without names, booster feature i is schema feature i
 * and the counts must agree.
 *
 * Category codes: xgboost sees categories as integer codes, and pandas (`astype("category")`) codes a
 * column by the index of the value in the SORTED list of its distinct values. The model file does not
 * keep the list, so the importer rebuilds it: the categories of the reference data (or a list given for
 * the feature), sorted by Unicode code point as Python sorts strings. The list is stored in the artifact
 * and never recomputed; a value outside it scores as missing (pandas gives NaN for an unknown category).
 */
import type { DatasetSchema } from '../../data/dataset-schema.js';
import { ChurnwatchError } from '../../errors.js';
import type { XgboostBooster } from './xgboost-json.js';

export interface XgboostFeatureBinding {
  /** Schema feature name of each booster feature, in booster order. */
  readonly names: readonly string[];
  /** Per booster feature: its categories in code order, or undefined for a numeric feature. */
  readonly categories: readonly (readonly string[] | undefined)[];
}

const NUMERIC_TYPES: ReadonlySet<string> = new Set(['q', 'float', 'int', 'i']);

/** Python's string order (by code point), which differs from JS's UTF-16 order past U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The categories in pandas' code order: distinct, sorted by code point. */
export function pandasCategoryOrder(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareCodePoints);
}

function featuresError(file: string, what: string): ChurnwatchError {
  return new ChurnwatchError('CW_MODEL_XGBOOST_FEATURES', `${file}: ${what}`, {
    hint: 'give the schema of the data the booster was trained on (same column names); see docs/model.md, "Importing an XGBoost model"',
  });
}

/**
 * Binds the booster's features to the schema. `names` overrides the booster's own names (the artifact
 * stores them, for boosters saved without); `categoriesOf(name)` gives a categorical feature's
 * categories in code order. Checks that every category code a split uses has a category.
 */
export function bindXgboostFeatures(
  booster: XgboostBooster,
  schema: DatasetSchema,
  file: string,
  categoriesOf: (name: string) => readonly string[],
  names?: readonly string[],
): XgboostFeatureBinding {
  const kinds = new Map(schema.features.map((f) => [f.name, f.kind]));
  const bound = names ?? booster.featureNames;
  if (bound === undefined && booster.numFeature !== schema.features.length)
    throw featuresError(
      file,
      `the booster has no feature names and ${booster.numFeature} features, the schema ${schema.features.length}: save the booster trained on named columns (a pandas DataFrame or DMatrix(feature_names=…))`,
    );
  const list = bound ?? schema.features.map((f) => f.name);
  if (list.length !== booster.numFeature)
    throw featuresError(
      file,
      `${list.length} feature names for the booster's ${booster.numFeature} features`,
    );
  const missing = list.filter((n) => !kinds.has(n));
  if (missing.length > 0)
    throw featuresError(
      file,
      `the booster's features ${missing.map((n) => JSON.stringify(n)).join(', ')} are not in the schema (its features: ${[...kinds.keys()].map((n) => JSON.stringify(n)).join(', ')})`,
    );
  if (new Set(list).size !== list.length) throw featuresError(file, 'the booster names a feature twice');
  const categorical = list.map((name, f) => {
    const type = booster.featureTypes?.[f];
    const kind = kinds.get(name)!;
    if (type !== undefined && !NUMERIC_TYPES.has(type) && type !== 'c')
      throw featuresError(file, `feature ${JSON.stringify(name)} has xgboost type ${JSON.stringify(type)}`);
    // Without feature_types the booster was trained on plain numbers: a categorical schema feature
    // would have to be coded by the user, which churnwatch cannot reproduce.
    const boosterKind = type === 'c' ? 'categorical' : 'numeric';
    if (boosterKind !== kind)
      throw featuresError(
        file,
        `feature ${JSON.stringify(name)} is ${boosterKind} in the booster (type ${JSON.stringify(type ?? 'q')}) but ${kind} in the schema`,
      );
    return kind === 'categorical';
  });
  const categories = list.map((name, f) => (categorical[f] ? categoriesOf(name) : undefined));
  const largest = new Int32Array(list.length).fill(-1);
  for (const tree of booster.trees)
    for (const [node, set] of tree.categorySets) {
      const f = tree.splitIndex[node]!;
      if (!categorical[f])
        throw featuresError(
          file,
          `a categorical split on feature ${JSON.stringify(list[f])}, numeric in the schema`,
        );
      for (const c of set) if (c > largest[f]!) largest[f] = c;
    }
  largest.forEach((code, f) => {
    const known = categories[f]?.length ?? 0;
    if (code >= known)
      throw featuresError(
        file,
        `feature ${JSON.stringify(list[f])}: the booster splits on category code ${code}, but only ${known} categories are known (${(categories[f] ?? []).map((c) => JSON.stringify(c)).join(', ')}); the reference data must hold every category the booster was trained on`,
      );
  });
  return { names: list, categories };
}
