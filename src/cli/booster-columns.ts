/**
 * An XGBoost booster's features against the reference CSV it is imported with, before and after schema
 * inference, so that a mismatch is told in the user's terms (the booster file, the CSV, the column and
 * what inference did with it) rather than as a bare "not in the schema".
 *
 * The booster's recorded feature types are the truth about how the model reads a column: they become
 * kind hints under the user's flags and schema file, so an integer-coded category is read as
 * categorical and a booster feature is never taken for the id.
 */
import { SCORE_KEY } from '../data/dataset-schema.js';
import {
  type ColumnSummary,
  type InferredSchema,
  type KindHint,
  NUMERIC_SHARE,
} from '../data/infer-schema.js';
import { ChurnwatchError } from '../errors.js';
import type { XgboostBooster } from '../model/xgboost/xgboost-json.js';

const quoted = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(', ');

function featuresError(message: string, hint: string): ChurnwatchError {
  return new ChurnwatchError('CW_MODEL_XGBOOST_FEATURES', message, { hint });
}

/**
 * Kinds from the booster's feature_types ('c' categorical, anything else numeric; the binder refuses
 * unknown types), for a booster with names and types. `score` gets none: inference drops it as reserved
 * and checkBoosterFeatures says why.
 */
export function boosterKindHints(booster: XgboostBooster, file: string): KindHint[] {
  const { featureNames: names, featureTypes: types } = booster;
  if (!names || !types) return [];
  return names.flatMap((column, f) =>
    column === SCORE_KEY || types[f] === undefined
      ? []
      : [{ column, kind: types[f] === 'c' ? 'categorical' : 'numeric', by: `${file}: feature_types` }],
  );
}

/** Throws CW_MODEL_XGBOOST_FEATURES naming the booster's features the reference's header lacks. */
export function checkBoosterColumns(
  booster: XgboostBooster,
  file: string,
  reference: string,
  header: readonly string[],
): void {
  const columns = new Set(header);
  const missing = (booster.featureNames ?? []).filter((name) => !columns.has(name));
  if (missing.length === 0) return;
  const near = missing.flatMap((m) => header.filter((h) => h.toLowerCase() === m.toLowerCase()));
  throw featuresError(
    `${file}: the booster's feature${missing.length === 1 ? '' : 's'} ${quoted(missing)} ${missing.length === 1 ? 'is not a column' : 'are not columns'} of ${reference} (its columns: ${quoted(header)})`,
    near.length > 0
      ? `names are case-sensitive: did you mean ${quoted(near)}? Pass the data the booster was trained on, with its column names`
      : 'pass the data the booster was trained on (or validated on), with its column names',
  );
}

/** Why a column inference did not make a feature keeps the booster from being imported, and what to do. */
function notAFeature(column: ColumnSummary): { why: string; hint: string } {
  if (column.role === 'id')
    return {
      why: `it is the id column (${column.note})`,
      hint: `name another id column with --id, or take ${JSON.stringify(column.name)} as a feature with --numeric or --categorical`,
    };
  if (column.role === 'target')
    return { why: 'it is the target column', hint: 'name the label column with --target' };
  const reason = column.note.split(':')[0] as string;
  const hints: Record<string, string> = {
    ignored: `leave ${JSON.stringify(column.name)} out of --ignore (and of the schema file's dropped columns)`,
    reserved: `churnwatch reserves the name "${SCORE_KEY}" for the model's score: rename the column in the training data and train the booster again`,
    constant:
      'the reference must hold the values the booster splits on: pass more (or other) rows of the data it was trained on',
    'all-missing':
      'the reference must hold the values the booster splits on: pass more (or other) rows of the data it was trained on',
    'id-like': `take it as a feature with --numeric ${column.name} or --categorical ${column.name}`,
  };
  return {
    why: `inference dropped the column (${column.note})`,
    hint: hints[reason] ?? 'name it with --numeric or --categorical',
  };
}

/**
 * After inference: every booster feature (by name) must be a feature of the schema, and a column the
 * booster reads as a number must hold numbers. Throws CW_MODEL_XGBOOST_FEATURES naming the booster
 * file, the reference, the feature and what inference did with it.
 */
export function checkBoosterFeatures(
  booster: XgboostBooster,
  file: string,
  inferred: InferredSchema,
  hints: readonly KindHint[],
): void {
  const features = new Set(inferred.schema.features.map((f) => f.name));
  const columns = new Map(inferred.columns.map((c) => [c.name, c]));
  for (const name of booster.featureNames ?? []) {
    const column = columns.get(name);
    if (features.has(name) || column === undefined) continue;
    const { why, hint } = notAFeature(column);
    throw featuresError(
      `${file}: the booster's feature ${JSON.stringify(name)} is not a feature of ${inferred.file}'s schema: ${why}`,
      hint,
    );
  }
  for (const hint of hints) {
    const column = columns.get(hint.column);
    if (hint.kind !== 'numeric' || !column || column.nonNumeric === 0 || column.kind !== 'numeric') continue;
    // A hinted numeric column counts its text cells as missing: present = not missing + those cells.
    const present = inferred.rows - column.missing + column.nonNumeric;
    if (column.nonNumeric > (1 - NUMERIC_SHARE) * present)
      throw featuresError(
        `${file}: the booster reads feature ${JSON.stringify(hint.column)} as a number, but ${column.nonNumeric} of its ${present} values in ${inferred.file} are not numbers`,
        'pass the data the booster was trained on; a text column must be categorical in the booster (enable_categorical=True)',
      );
  }
}
