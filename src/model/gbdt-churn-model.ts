/**
 * The ChurnModel of a trained GBDT: encoders turn raw values into what the compiled forest compares
 * (numbers as they are, categories as their bin rank, NaN for missing or unseen), the forest gives a
 * margin, the calibrator a probability.
 */
import type { ColumnarTable } from '../data/columnar-table.js';
import type { DatasetSchema } from '../data/dataset-schema.js';
import type { RawFeatures } from '../data/feature-types.js';
import { scoringNumber } from '../data/record-columns.js';
import {
  type BinnedForest,
  blockScratch,
  compileBinnedForest,
  type ScoringColumn,
  scoreBinnedOne,
  scoreBinnedRows,
  scoringColumns,
} from './binned-scoring.js';
import { calibrate, type PlattCalibrator } from './calibration.js';
import { categoricalValues } from './categorical-values.js';
import type { ChurnModel, ModelInfo } from './churn-model.js';
import { type CompiledForest, scoreColumns, scoreVector } from './compiled-forest.js';
import type { FeatureEncoder } from './feature-encoder.js';
import type { ReferenceProfile } from './reference-profile-types.js';

export interface ModelParts {
  readonly encoders: readonly FeatureEncoder[];
  readonly forest: CompiledForest;
  readonly calibrator: PlattCalibrator;
}

/** Batches of at least this many records use the bin-space scorer. */
const BINNED_MIN_RECORDS = 16;

const binnedCache = new WeakMap<CompiledForest, BinnedForest | null>();

/** The forest in bin space (compiled once per forest), or undefined when only the reference path is exact. */
export function binnedForestOf(parts: ModelParts): BinnedForest | undefined {
  let binned = binnedCache.get(parts.forest);
  if (binned === undefined) {
    binned = compileBinnedForest(parts.forest, parts.encoders) ?? null;
    binnedCache.set(parts.forest, binned);
  }
  return binned ?? undefined;
}

/**
 * Raw margins of every row of a table (before calibration). A column the table lacks scores as
 * missing. Uses the bin-space scorer (binned-scoring.ts), bit-identical to referenceTableMargins.
 */
export function tableMargins(parts: ModelParts, table: ColumnarTable): Float64Array {
  const binned = binnedForestOf(parts);
  if (!binned) return referenceTableMargins(parts, table);
  const margins = new Float64Array(table.rowCount);
  scoreBinnedRows(binned, scoringColumns(parts.encoders, table), 0, table.rowCount, margins);
  return margins;
}

/** Margins by walking raw thresholds (compiled-forest.ts): the reference the fast paths must equal. */
export function referenceTableMargins(parts: ModelParts, table: ColumnarTable): Float64Array {
  const n = table.rowCount;
  const columns = parts.encoders.map((encoder): ArrayLike<number> => {
    const column = table.columns.get(encoder.name);
    if (!column) return new Float64Array(n).fill(Number.NaN);
    if (encoder.kind === 'numeric') {
      if (column.kind === 'numeric') return column.values;
      throw new TypeError(`column ${encoder.name} must be numeric`);
    }
    if (column.kind !== 'categorical') throw new TypeError(`column ${encoder.name} must be categorical`);
    return categoricalValues(column, new Map(encoder.categories.map((c, i) => [c, i + 1])));
  });
  const margins = new Float64Array(n);
  scoreColumns(parts.forest, columns, n, margins);
  return margins;
}

export function calibratedScores(parts: ModelParts, margins: Float64Array): Float64Array {
  const out = new Float64Array(margins.length);
  for (let i = 0; i < margins.length; i++) out[i] = calibrate(parts.calibrator, margins[i]!);
  return out;
}

const partsOfModel = new WeakMap<ChurnModel, ModelParts>();

/** The parts a model made by createGbdtChurnModel was built from (for parallel-scoring.ts). */
export function modelPartsOf(model: ChurnModel): ModelParts | undefined {
  return partsOfModel.get(model);
}

export function createGbdtChurnModel(
  parts: ModelParts,
  info: ModelInfo,
  profile: ReferenceProfile,
  schema: DatasetSchema,
): ChurnModel {
  const { encoders, forest, calibrator } = parts;
  const ranks = encoders.map((e) =>
    e.kind === 'categorical' ? new Map(e.categories.map((c, i) => [c, i + 1])) : undefined,
  );
  const x = new Float64Array(encoders.length);
  const categorical = Uint8Array.from(encoders, (e) => (e.kind === 'categorical' ? 1 : 0));
  // scoreRecord's block buffer for the bin-space walk, made on first use.
  let scratch: Uint8Array | undefined;

  /**
   * What the forest compares for feature f of a record: numbers as given or parsed from text,
   * categories as their rank; NaN when missing, unparseable or a category never seen in training.
   */
  const encodedValue = (features: RawFeatures, f: number): number => {
    const raw = features[encoders[f]!.name];
    const rank = ranks[f];
    if (!rank) return scoringNumber(raw);
    if (raw === null || raw === undefined || raw === '') return Number.NaN;
    return rank.get(String(raw)) ?? Number.NaN;
  };

  const fill = (features: RawFeatures) => {
    for (let f = 0; f < encoders.length; f++) x[f] = encodedValue(features, f);
  };

  /**
   * Records as scoring columns (binned-scoring.ts), with the values `fill` gives: a category's bin is
   * its rank, 0 when NaN (bin 0 takes a split's missing-value direction, as NaN does in the tree walk,
   * so both paths give the same margin).
   */
  const recordColumns = (records: readonly RawFeatures[]): ScoringColumn[] => {
    const n = records.length;
    return encoders.map((_, f): ScoringColumn => {
      if (ranks[f]) {
        const bins = new Uint8Array(n);
        for (let i = 0; i < n; i++) {
          const v = encodedValue(records[i]!, f);
          bins[i] = Number.isNaN(v) ? 0 : v;
        }
        return { kind: 'bins', bins };
      }
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = encodedValue(records[i]!, f);
      return { kind: 'numeric', values };
    });
  };

  /** The margin of the record `fill` put in x: the bin-space walk when the forest has one (scoreBinnedOne). */
  const marginOfFilled = (): number => {
    const binned = binnedForestOf(parts);
    if (!binned) return scoreVector(forest, x);
    scratch ??= blockScratch(binned);
    return scoreBinnedOne(binned, x, categorical, scratch);
  };

  const model: ChurnModel = {
    info,
    schema,
    profile,
    scoreRecord(features) {
      fill(features);
      return calibrate(calibrator, marginOfFilled());
    },
    scoreRecords(records) {
      const n = records.length;
      const out = new Float64Array(n);
      const binned = binnedForestOf(parts);
      // A batch goes through the bin-space scorer (a third of the tree walk's time per record on
      // 1,000-record requests); a handful of records is not worth its block set-up.
      if (binned && n >= BINNED_MIN_RECORDS) {
        scoreBinnedRows(binned, recordColumns(records), 0, n, out);
        for (let i = 0; i < n; i++) out[i] = calibrate(calibrator, out[i]!);
        return out;
      }
      for (let i = 0; i < n; i++) {
        fill(records[i]!);
        out[i] = calibrate(calibrator, marginOfFilled());
      }
      return out;
    },
    scoreTable(table) {
      const margins = tableMargins(parts, table);
      for (let i = 0; i < margins.length; i++) margins[i] = calibrate(calibrator, margins[i]!);
      return margins;
    },
  };
  partsOfModel.set(model, parts);
  return model;
}
