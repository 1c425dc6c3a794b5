/**
 * `churnwatch profile`'s computation: a labelled reference with another model's scores in a column
 * (and optionally its 0/1 decisions in another) becomes what a model-less artifact holds: threshold,
 * validation metrics of those scores, reference profile of the features and scores, calibrated drift
 * thresholds (scored-reference.ts, as an import does). Reading the CSV is the caller's job, writing the
 * artifact model-io.ts's saveProfileArtifact.
 */
import type { ColumnarTable } from '../data/columnar-table.js';
import type { DatasetSchema } from '../data/dataset-schema.js';
import { ChurnwatchError } from '../errors.js';
import {
  profileScoredReference,
  type ScoredReference,
  type ScoredReferenceOptions,
} from './scored-reference.js';

export const GIVEN_THRESHOLD_RULE = 'given';
export const PREDICTION_THRESHOLD_RULE = 'agrees-with-prediction-column';

export interface ExternalProfileOptions extends Omit<ScoredReferenceOptions, 'threshold'> {
  /** The column of the external model's probability of the positive class. */
  readonly scoreColumn: string;
  /** The column of its 0/1 decision: the threshold is then the one that agrees with it best. */
  readonly predictionColumn?: string;
  /** The external model's threshold, over the prediction column and max F1. */
  readonly threshold?: number;
  /** The reference file, for messages. */
  readonly file: string;
}

export type ExternalProfile = Omit<ScoredReference, 'heldOut' | 'heldOutScores'> & {
  /** Rows whose decision disagrees with score ≥ threshold (with a prediction column). */
  readonly predictionDisagreements?: number;
};

const scoresError = (message: string) =>
  new ChurnwatchError('CW_MODEL_PROFILE_SCORES', message, {
    hint: "pass --score the column of the external model's probability of the positive class (and --prediction its 0/1 decision)",
  });

/** A numeric column of `table` whose every value lies in [lo, hi] (integers when `integers`). */
function checkedColumn(
  table: ColumnarTable,
  name: string,
  file: string,
  what: string,
  integers: boolean,
): Float64Array {
  const column = table.columns.get(name);
  if (column?.kind !== 'numeric') throw scoresError(`${file}: no numeric column ${name} for ${what}`);
  const values = column.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v <= 1) || (integers && v !== 0 && v !== 1))
      throw scoresError(
        `${file}: data row ${i + 1}, column ${name}: ${Number.isNaN(v) ? 'missing' : v} is not ${integers ? '0 or 1' : 'a probability in [0, 1]'} (${what})`,
      );
  }
  return Float64Array.from(values);
}

/**
 * The threshold at which score ≥ threshold agrees with the most decisions (the lowest such score):
 * the external model's own threshold, as far as its decisions tell. O(n log n).
 */
export function thresholdFromDecisions(
  scores: ArrayLike<number>,
  decisions: ArrayLike<number>,
): { threshold: number; disagreements: number } {
  const n = scores.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  // Threshold above every score: all predicted 0, so the disagreements are the decisions of 1.
  let ones = 0;
  for (let i = 0; i < n; i++) ones += decisions[order[i]!]!;
  let best = { threshold: 1, disagreements: ones };
  let disagreements = ones;
  // Lowering the threshold to scores[order[i]] (and its ties) predicts those rows 1.
  for (let i = n - 1; i >= 0; ) {
    const s = scores[order[i]!]!;
    while (i >= 0 && scores[order[i]!] === s) {
      disagreements += decisions[order[i]!] === 1 ? -1 : 1;
      i--;
    }
    if (disagreements <= best.disagreements) best = { threshold: s, disagreements };
  }
  return best;
}

/**
 * `table` was read by `schema` plus the score (and prediction) columns as numeric features; it is
 * labelled. Throws CW_MODEL_PROFILE_SCORES for a score outside [0, 1] or missing, or a decision not 0/1;
 * CW_MODEL_PROFILE_REFERENCE for fewer than 100 rows or 10 of a class.
 */
export function profileExternalScores(
  table: ColumnarTable,
  schema: DatasetSchema,
  options: ExternalProfileOptions,
): ExternalProfile {
  const { file } = options;
  const target = table.target;
  const n = table.rowCount;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += target?.[i] ?? 0;
  if (!target || n < 100 || positives < 10 || n - positives < 10)
    throw new ChurnwatchError(
      'CW_MODEL_PROFILE_REFERENCE',
      `${file}: ${n} labelled rows with ${positives} ${schema.target.column} ${schema.target.positive}; at least 100 rows and 10 of each class are needed`,
      { hint: 'pass the labelled data the external model was validated on' },
    );
  const scores = checkedColumn(table, options.scoreColumn, file, '--score', false);
  let threshold: ScoredReferenceOptions['threshold'];
  let predictionDisagreements: number | undefined;
  if (options.threshold !== undefined) threshold = { value: options.threshold, rule: GIVEN_THRESHOLD_RULE };
  if (options.predictionColumn !== undefined) {
    const decisions = checkedColumn(table, options.predictionColumn, file, '--prediction', true);
    const fitted = thresholdFromDecisions(scores, decisions);
    threshold ??= { value: fitted.threshold, rule: PREDICTION_THRESHOLD_RULE };
    predictionDisagreements = 0;
    for (let i = 0; i < n; i++)
      if ((scores[i]! >= threshold.value ? 1 : 0) !== decisions[i]) predictionDisagreements++;
  }
  const scoresOf = (part: ColumnarTable) => {
    const column = part.columns.get(options.scoreColumn);
    return Float64Array.from(column?.kind === 'numeric' ? column.values : []);
  };
  const {
    heldOut: _h,
    heldOutScores: _s,
    ...reference
  } = profileScoredReference(table, schema.features, scoresOf, {
    ...(options.heldOutShare !== undefined ? { heldOutShare: options.heldOutShare } : {}),
    ...(options.windowSize !== undefined ? { windowSize: options.windowSize } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(threshold ? { threshold } : {}),
  });
  return { ...reference, ...(predictionDisagreements !== undefined ? { predictionDisagreements } : {}) };
}
