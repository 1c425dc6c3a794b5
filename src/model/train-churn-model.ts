/**
 * One training run on the training part of the data: split a validation slice off, fit the encoders,
 * boost, calibrate and choose the threshold on the validation slice, measure it, and profile the
 * training part. Pure computation: the caller reads the file, writes the artifact and pushes metrics.
 */

import { cliCommand } from '../cli-command.js';
import type { ColumnarTable } from '../data/columnar-table.js';
import { EXPRESSO_SCHEMA } from '../data/dataset-schema.js';
import { createRng } from '../data/rng.js';
import { ChurnwatchError } from '../errors.js';
import { calibrationCurve, classificationMetrics } from '../stats/classification.js';
import { type CalibrationChoice, chooseCalibrator, maxF1Threshold } from './calibration.js';
import type { ValidationMetrics } from './churn-model.js';
import { compileForest } from './compiled-forest.js';
import { binTable, type FeatureRef, fitEncoders } from './feature-encoder.js';
import { type GbdtParams, trainGbdt, validateGbdtParams } from './gbdt.js';
import { calibratedScores, type ModelParts, tableMargins } from './gbdt-churn-model.js';
import { buildReferenceProfile, DEFAULT_PROFILE_OPTIONS } from './reference-profile.js';
import type { ReferenceProfile } from './reference-profile-types.js';
import { shuffledIndices } from './sampling.js';
import { takeRows } from './table-rows.js';

export const THRESHOLD_RULE = 'max-f1-on-validation';

export interface TrainOptions {
  readonly params: GbdtParams;
  /** Share of the training part held out for early stopping, calibration, threshold and metrics. */
  readonly validationShare: number;
  /** Features to use (the schema's); Expresso's 17 by default. */
  readonly features?: readonly FeatureRef[];
  /** The label column's name, for error messages (default CHURN). */
  readonly targetColumn?: string;
  readonly onRound?: (round: number, validationLogLoss: number | undefined) => void;
}

export interface CalibrationReport extends CalibrationChoice {
  /** Reliability curve of the final (calibrated) scores on validation, 10 equal-width bins. */
  readonly curve: { probTrue: number[]; probPred: number[]; counts: number[] };
  /** Expected calibration error of the final scores on validation. */
  readonly ece: number;
}

export interface TrainedChurnModel {
  readonly parts: ModelParts;
  readonly threshold: number;
  readonly thresholdRule: string;
  readonly validation: ValidationMetrics;
  readonly calibration: CalibrationReport;
  /** Built from the training rows only (not the validation slice). */
  readonly profile: ReferenceProfile;
  /** The validation rows as a table: held out from the trees and the profile, for drift-threshold calibration. */
  readonly validationTable: ColumnarTable;
  /** Calibrated scores of the validation rows, aligned with validationTable. */
  readonly validationScores: Float64Array;
  readonly rows: { readonly train: number; readonly validation: number };
  readonly trees: number;
  readonly validationLogLossByRound: readonly number[];
  /** Total split gain per feature, normalised to sum to 1. */
  readonly featureImportance: Readonly<Record<string, number>>;
}

export async function trainChurnModel(
  table: ColumnarTable,
  options: TrainOptions,
): Promise<TrainedChurnModel> {
  const params = validateGbdtParams(options.params);
  const features = options.features ?? EXPRESSO_SCHEMA.features;
  const target = table.target;
  if (!target) {
    throw new ChurnwatchError(
      'CW_TRAIN_NO_LABELS',
      `the training data has no column ${options.targetColumn ?? EXPRESSO_SCHEMA.target.column} (the target)`,
      {
        hint: `train on a labelled file such as Train.csv or what ${cliCommand('data generate --rows 100000')} writes, or name the label column with --target`,
      },
    );
  }
  const n = table.rowCount;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += target[i]!;
  if (n < 100 || positives < 10 || n - positives < 10) {
    throw new ChurnwatchError(
      'CW_TRAIN_TOO_FEW_ROWS',
      `the training data has ${n} rows with ${positives} churners; at least 100 rows and 10 of each class are needed`,
      { hint: 'pass a larger file or a larger --rows' },
    );
  }
  if (!(options.validationShare > 0 && options.validationShare < 0.9)) {
    throw new RangeError('validationShare must be in (0, 0.9)');
  }
  for (const f of features) {
    const column = table.columns.get(f.name);
    if (column?.kind !== f.kind) {
      throw new ChurnwatchError(
        'CW_TRAIN_MISSING_COLUMN',
        `the training data has no ${f.kind} column ${f.name}`,
        {
          hint: "the file must have every feature column of the model's schema",
        },
      );
    }
  }

  const order = shuffledIndices(n, createRng(params.seed, 2));
  const validationCount = Math.max(50, Math.round(n * options.validationShare));
  const validRows = order.slice(0, validationCount).sort();
  const trainRows = order.slice(validationCount).sort();
  const yTrain = Uint8Array.from(trainRows, (r) => target[r]!);
  const yValid = Uint8Array.from(validRows, (r) => target[r]!);

  const encoders = fitEncoders(table, features, target, trainRows, createRng(params.seed, 3), {
    maxBins: params.maxBins,
  });
  const gbdt = await trainGbdt(
    binTable(table, encoders, trainRows),
    yTrain,
    { matrix: binTable(table, encoders, validRows), target: yValid },
    params,
    options.onRound ? { onRound: options.onRound } : {},
  );
  const forest = compileForest(gbdt.baseScore, gbdt.trees, encoders);

  const validationTable = takeRows(table, validRows);
  const uncalibrated: ModelParts = { encoders, forest, calibrator: { method: 'identity', a: 1, b: 0 } };
  const validMargins = tableMargins(uncalibrated, validationTable);
  const choice = chooseCalibrator(validMargins, yValid);
  const parts: ModelParts = { encoders, forest, calibrator: choice.calibrator };
  const validScores = calibratedScores(parts, validMargins);
  const { threshold } = maxF1Threshold(validScores, yValid);
  const metrics = classificationMetrics(yValid, validScores, threshold);
  const curve = calibrationCurve(yValid, validScores, 10);
  let ece = 0;
  for (let b = 0; b < curve.counts.length; b++) {
    ece += (curve.counts[b]! / yValid.length) * Math.abs(curve.probTrue[b]! - curve.probPred[b]!);
  }

  // The profile describes the rows the trees were fitted on; the validation rows stay out of it so
  // that drift thresholds can be calibrated on them as genuinely held-out windows.
  const trainTable = takeRows(table, trainRows);
  const trainScores = calibratedScores(parts, tableMargins(parts, trainTable));
  const profile = buildReferenceProfile(trainTable, features, trainScores, threshold, {
    ...DEFAULT_PROFILE_OPTIONS,
    rng: createRng(params.seed, 4),
  });

  const gains = new Float64Array(encoders.length);
  for (const tree of gbdt.trees) {
    for (let i = 0; i < tree.feature.length; i++)
      if (tree.feature[i]! >= 0) gains[tree.feature[i]!]! += tree.gain[i]!;
  }
  const totalGain = gains.reduce((s, g) => s + g, 0) || 1;
  const featureImportance = Object.fromEntries(encoders.map((e, f) => [e.name, gains[f]! / totalGain]));

  return {
    parts,
    threshold,
    thresholdRule: THRESHOLD_RULE,
    validation: metrics,
    calibration: { ...choice, curve, ece },
    profile,
    validationTable,
    validationScores: validScores,
    rows: { train: trainRows.length, validation: validRows.length },
    trees: gbdt.trees.length,
    validationLogLossByRound: gbdt.validationLogLoss,
    featureImportance,
  };
}
