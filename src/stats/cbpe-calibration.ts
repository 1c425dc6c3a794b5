/**
 * The calibration CBPE estimates with, chosen as NannyML's `needs_calibration` chooses it: none for a
 * single class or a reference ROC AUC above 0.999; otherwise 10 stratified shuffle splits (a tenth
 * held out each time), isotonic regression fitted on each train part and applied to its test part, the
 * test parts pooled, and equal-count ECE (ece.ts) of the raw and the isotonic scores compared:
 * calibrate iff ECE before > ECE after, with isotonic fitted on the whole reference. The splits are
 * scikit-learn's StratifiedShuffleSplit(random_state=42) draw for draw (stratified-shuffle-split.ts),
 * so the same reference rows are held out as in NannyML and a borderline choice comes out the same;
 * only rows tied on a probability at an ECE bin edge may sort differently (ece.ts).
 *
 * The result is stored in the reference profile (`profile.cbpe`) so that the live counters, the
 * monitor and the report apply one and the same map; a profile without it means identity.
 */
import { rocAuc } from './classification.js';
import { expectedCalibrationError } from './ece.js';
import { fitIsotonic, type IsotonicThresholds, isotonicMap } from './isotonic.js';
import { stratifiedShuffleSplits } from './stratified-shuffle-split.js';

/** Why the calibration is what it is. */
export type CbpeCalibrationReason =
  /** The cross-validated ECE comparison decided. */
  | 'ece'
  /** One class only: nothing to calibrate against. */
  | 'single-class'
  /** Reference ROC AUC > 0.999: the scores already separate the classes. */
  | 'separable'
  /** Too few rows to hold out a stratified tenth (fewer than 2 of a class, or under 20 rows). */
  | 'too-few-rows';

export interface CbpeCalibration {
  /** True when CBPE maps scores through `thresholds` before estimating. */
  readonly calibrated: boolean;
  readonly method: 'isotonic' | 'none';
  /** The isotonic map fitted on every reference row; present exactly when calibrated. */
  readonly thresholds?: IsotonicThresholds;
  /** Pooled cross-validated ECE of the raw scores and of their isotonic calibration; null when not measured. */
  readonly eceBefore: number | null;
  readonly eceAfter: number | null;
  /** Reference rows the choice was made on. */
  readonly rows: number;
  readonly reason: CbpeCalibrationReason;
}

/** A score's calibrated probability. */
export type ScoreCalibrator = (score: number) => number;

export interface CbpeCalibrationOptions {
  /** The splits' NumPy seed (default 42, NannyML's random_state). */
  readonly seed?: number;
}

const SPLITS = 10;
const TEST_SHARE = 0.1;
const ECE_BINS = 10;
const SEPARABLE_AUC = 0.999;
const MIN_ROWS = 20;

/**
 * Chooses and fits the CBPE calibration of raw `scores` against 0/1 `labels` (the reference: a model's
 * validation or held-out rows). Cost O(splits · n log n).
 * Throws RangeError on mismatched lengths, labels other than 0/1 or non-finite scores (naming the row).
 * @example fitCbpeCalibration(validationScores, validationLabels).calibrated
 */
export function fitCbpeCalibration(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: CbpeCalibrationOptions = {},
): CbpeCalibration {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`cbpe calibration: ${n} scores but ${labels.length} labels`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (y !== 0 && y !== 1)
      throw new RangeError(`cbpe calibration: label at row ${i} is ${y}, expected 0 or 1`);
    if (!Number.isFinite(scores[i]!))
      throw new RangeError(`cbpe calibration: score at row ${i} is not finite`);
    positives += y;
  }
  const none = (
    reason: CbpeCalibrationReason,
    eceBefore: number | null = null,
    eceAfter: number | null = null,
  ) => ({ calibrated: false, method: 'none', eceBefore, eceAfter, rows: n, reason }) as const;
  if (positives === 0 || positives === n) return none('single-class');
  if (rocAuc(labels, scores) > SEPARABLE_AUC) return none('separable');
  if (n < MIN_ROWS || positives < 2 || n - positives < 2) return none('too-few-rows');

  const splits = stratifiedShuffleSplits(labels, {
    splits: SPLITS,
    testShare: TEST_SHARE,
    seed: options.seed ?? 42,
  });
  const testRows = splits[0]!.test.length;
  const pooledY = new Float64Array(SPLITS * testRows);
  const pooledRaw = new Float64Array(SPLITS * testRows);
  const pooledCalibrated = new Float64Array(SPLITS * testRows);
  const trainX = new Float64Array(splits[0]!.train.length);
  const trainY = new Float64Array(splits[0]!.train.length);
  let at = 0;
  for (const { train, test } of splits) {
    for (let k = 0; k < train.length; k++) {
      trainX[k] = scores[train[k]!]!;
      trainY[k] = labels[train[k]!]!;
    }
    const map = isotonicMap(fitIsotonic(trainX, trainY));
    for (const i of test) {
      pooledY[at] = labels[i]!;
      pooledRaw[at] = scores[i]!;
      pooledCalibrated[at++] = map.apply(scores[i]!);
    }
  }
  const eceBefore = expectedCalibrationError(pooledY, pooledRaw, ECE_BINS);
  const eceAfter = expectedCalibrationError(pooledY, pooledCalibrated, ECE_BINS);
  if (!(eceBefore > eceAfter)) return none('ece', eceBefore, eceAfter);
  return {
    calibrated: true,
    method: 'isotonic',
    thresholds: fitIsotonic(scores, labels),
    eceBefore,
    eceAfter,
    rows: n,
    reason: 'ece',
  };
}

const calibrators = new WeakMap<CbpeCalibration, ScoreCalibrator>();

/**
 * The calibrated-probability function of a stored calibration, built once per calibration object
 * (binary search over its thresholds, O(log k) a call); undefined means identity (not calibrated, or a
 * profile made before CBPE calibration was stored).
 */
export function cbpeCalibrator(calibration: CbpeCalibration | undefined): ScoreCalibrator | undefined {
  if (!calibration?.calibrated || !calibration.thresholds) return undefined;
  let f = calibrators.get(calibration);
  if (!f) {
    f = isotonicMap(calibration.thresholds).apply;
    calibrators.set(calibration, f);
  }
  return f;
}

/**
 * The calibrated probabilities of raw `scores` (a copy of the scores under identity). Cost O(n log k).
 * @example applyCbpeCalibration(profile.cbpe, chunkScores) // then estimatePerformance(chunkScores, t, cbpeCalibrator(profile.cbpe))
 */
export function applyCbpeCalibration(
  calibration: CbpeCalibration | undefined,
  scores: ArrayLike<number>,
): Float64Array {
  const f = cbpeCalibrator(calibration);
  const out = Float64Array.from(scores);
  if (f) for (let i = 0; i < out.length; i++) out[i] = f(out[i]!);
  return out;
}

/**
 * What is wrong with a stored calibration (read from an artifact's profile.json), or undefined when it
 * is usable. Cost O(k).
 */
export function cbpeCalibrationProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'cbpe is not an object';
  const c = value as Partial<CbpeCalibration>;
  if (typeof c.calibrated !== 'boolean') return 'cbpe.calibrated is not true or false';
  if (!c.calibrated) return undefined;
  const t = c.thresholds;
  if (!t || !Array.isArray(t.x) || !Array.isArray(t.y) || t.x.length === 0 || t.x.length !== t.y.length)
    return 'cbpe.thresholds needs x and y lists of the same, non-zero length';
  for (let i = 0; i < t.x.length; i++) {
    const y = t.y[i];
    if (typeof y !== 'number' || !(y >= 0 && y <= 1)) return `cbpe.thresholds.y[${i}] is not a probability`;
    if (typeof t.x[i] !== 'number' || !Number.isFinite(t.x[i]) || (i > 0 && !(t.x[i]! > t.x[i - 1]!)))
      return `cbpe.thresholds.x[${i}] is not a finite number above the one before`;
  }
  return undefined;
}

/** One line on the choice, for people: `isotonic calibration, ECE 0.0410 raw vs 0.0120 isotonic, 1000 validation rows`. */
export function formatCbpeChoice(c: Omit<CbpeCalibration, 'thresholds'>, rowsName: string): string {
  const ece =
    c.eceBefore !== null && c.eceAfter !== null
      ? `, ECE ${c.eceBefore.toFixed(4)} raw vs ${c.eceAfter.toFixed(4)} isotonic`
      : '';
  const why = {
    ece: '',
    'single-class': ` (one class in the ${rowsName} rows)`,
    separable: ` (${rowsName} ROC AUC > 0.999)`,
    'too-few-rows': ` (too few ${rowsName} rows)`,
  }[c.reason];
  return `${c.calibrated ? 'isotonic calibration' : 'scores as they are'}${why}${ece}, ${c.rows} ${rowsName} rows`;
}
