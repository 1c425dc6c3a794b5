/**
 * Chooses which of a model's features each scenario touches (a ScenarioPlan, scenarios.ts):
 * - Expresso without `--feature`: the Expresso preset (MONTANT and REVENUE drift for DAKAR customers,
 *   TOP_PACK and REGION get unseen values…), so the demo and its docs stay as they were;
 * - any other model, or `--feature`: the drift scenarios scale the most important numeric feature (by the
 *   artifact's feature importance; schema order when unknown) or the numeric `--feature`s; missing-spike
 *   blanks the two most important numeric features and the most important categorical one (or every
 *   `--feature`); new-categories gives unseen values to the two categorical features with the most
 *   categories (or the categorical `--feature`s); concept drift makes customers with a high value of the
 *   least important numeric feature leave. Generic plans have no segment: every row is shifted.
 */
import type { FeatureSpec, RawFeatures } from '../data/feature-types.js';
import { ChurnwatchError } from '../errors.js';
import { sigmoid } from '../stats/logistic.js';
import { isExpressoSchema, type ReplayModel } from './replay-model.js';
import { expressoPlan, type ScenarioPlan } from './scenarios.js';

/** Shares of extra missing values in missing-spike, by rank of the feature chosen. */
const MISSING_SHARES = [0.5, 0.4, 0.3];
/** Unseen values per feature in new-categories. */
const FRESH_VALUES = 2;

function badFeature(message: string): ChurnwatchError {
  return new ChurnwatchError('CW_SIM_BAD_OPTION', message, {
    hint: "name the model's features as its schema.json lists them, e.g. --feature 'tenure months'",
  });
}

/** The model's features named by `--feature` (exact name, else the one name equal ignoring case). */
export function resolveFeatureNames(
  features: readonly FeatureSpec[],
  names: readonly string[],
): FeatureSpec[] {
  return names.map((name) => {
    const exact = features.find((f) => f.name === name);
    if (exact) return exact;
    const folded = features.filter((f) => f.name.toLowerCase() === name.toLowerCase());
    if (folded.length === 1) return folded[0]!;
    const known = features.map((f) => JSON.stringify(f.name)).join(', ');
    throw badFeature(
      `--feature ${JSON.stringify(name)} is not a feature of the model (its features: ${known})`,
    );
  });
}

/** Features by decreasing importance; unknown importance counts as 0, ties keep schema order. */
function byImportance(features: readonly FeatureSpec[], model: ReplayModel): FeatureSpec[] {
  const gain = (f: FeatureSpec) => model.importance?.[f.name] ?? 0;
  return features
    .map((f, i) => ({ f, i }))
    .sort((a, b) => gain(b.f) - gain(a.f) || a.i - b.i)
    .map(({ f }) => f);
}

/** Churn probability rising with a feature's z-score: ≈ 0.2 at its mean, ≈ 0.8 one std above. */
function highValueLeaves(name: string, mean: number, std: number): (features: RawFeatures) => number {
  return (features) => {
    const v = features[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) return 0.1;
    return sigmoid(-1.4 + 2.8 * ((v - mean) / std));
  };
}

/**
 * The plan for a model: the Expresso preset for an Expresso model without `--feature`, else chosen
 * from the model (see the module comment). Throws CW_SIM_BAD_OPTION for a `--feature` the model lacks.
 */
export function planScenarios(model: ReplayModel, chosen: readonly string[] = []): ScenarioPlan {
  const features = model.schema.features;
  if (chosen.length === 0 && isExpressoSchema(model.schema)) return expressoPlan();
  const named = resolveFeatureNames(features, chosen);
  const ranked = byImportance(features, model);
  const numeric = ranked.filter((f) => f.kind === 'numeric');
  const categorical = ranked.filter((f) => f.kind === 'categorical');
  const categories = (f: FeatureSpec) => model.reference[f.name]?.categories ?? 0;
  const mostCategories = features
    .filter((f) => f.kind === 'categorical')
    .map((f, i) => ({ f, i }))
    .sort((a, b) => categories(b.f) - categories(a.f) || a.i - b.i)
    .map(({ f }) => f);

  const namedNumeric = named.filter((f) => f.kind === 'numeric');
  const namedCategorical = named.filter((f) => f.kind === 'categorical');
  const drift = (named.length > 0 ? namedNumeric : numeric.slice(0, 1)).map((f) => f.name);
  const missingFeatures = named.length > 0 ? named : [...numeric.slice(0, 2), ...categorical.slice(0, 1)];
  const fresh = named.length > 0 ? namedCategorical : mostCategories.slice(0, 2);

  // Concept drift follows a feature the model leans on least, so the labels stop following the model.
  const conceptFeature = [...numeric]
    .reverse()
    .find((f) => (model.reference[f.name]?.std ?? 0) > 0 && !drift.includes(f.name));
  const conceptRef = conceptFeature ? model.reference[conceptFeature.name] : undefined;
  return {
    features,
    drift,
    driftFollowers: [],
    missing: missingFeatures.map((f, i) => [f.name, MISSING_SHARES[Math.min(i, MISSING_SHARES.length - 1)]!]),
    newCategories: fresh.map((f) => [
      f.name,
      Array.from({ length: FRESH_VALUES }, (_, k) => `NEW-${f.name}-${k + 1}`),
    ]),
    expressoRules: false,
    ...(conceptFeature && conceptRef?.mean !== undefined && conceptRef.std !== undefined
      ? {
          alternativeChurnProbability: highValueLeaves(conceptFeature.name, conceptRef.mean, conceptRef.std),
          alternativeMechanism: `customers with a high ${conceptFeature.name} leave`,
        }
      : {
          alternativeChurnProbability: () => 0.5,
          alternativeMechanism: 'labels drawn at random, half of them churn',
        }),
  };
}
