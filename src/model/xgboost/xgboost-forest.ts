/**
 * An XGBoost booster flattened into typed arrays and scored as xgboost's CPU predictor does, so the
 * probabilities agree with `Booster.predict` to float32 rounding:
 * - features are float32 (callers fill Float32Arrays, which round on store);
 * - a numeric split goes left when `value < condition` (strict, float32; churnwatch's own trees use `<=`);
 * - a missing value (NaN) follows default_left;
 * - a categorical split goes right when the value's category code is in the node's set, left otherwise
 *   (also for a code past the set's range or not a valid code), as xgboost's `Decision` does;
 * - the margin is accumulated in float32, starting at the base margin logit(base_score), tree by tree.
 * Scoring allocates nothing per row.
 */
import { MAX_CATEGORY_CODE, type XgboostBooster } from './xgboost-json.js';

export interface XgboostForest {
  readonly featureCount: number;
  /** logit(base_score) in float32, as xgboost's ProbToMargin computes it. */
  readonly baseMargin: number;
  /** Root node of each tree in the node table. */
  readonly roots: Int32Array;
  /** Split feature, -1 for a leaf. */
  readonly feature: Int32Array;
  /** Numeric split condition (exact float32 value); NaN for a categorical split. */
  readonly condition: Float64Array;
  readonly defaultLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf value (exact float32 value). */
  readonly value: Float64Array;
  /** A categorical split's first word in categoryBits, -1 for a numeric split. */
  readonly categoryStart: Int32Array;
  /** A categorical split's word count in categoryBits. */
  readonly categoryWords: Int32Array;
  /** Bit c of a node's words is set when category code c goes right. */
  readonly categoryBits: Uint32Array;
}

/** xgboost's ProbToMargin for binary:logistic, in float32: −log(1/p − 1). */
export function baseMarginOf(baseScore: number): number {
  const p = Math.fround(baseScore);
  return Math.fround(-Math.log(Math.fround(Math.fround(1 / p) - 1)));
}

export function compileXgboostForest(booster: XgboostBooster): XgboostForest {
  const total = booster.trees.reduce((s, t) => s + t.left.length, 0);
  const roots = new Int32Array(booster.trees.length);
  const feature = new Int32Array(total);
  const condition = new Float64Array(total);
  const defaultLeft = new Uint8Array(total);
  const left = new Int32Array(total);
  const right = new Int32Array(total);
  const value = new Float64Array(total);
  const categoryStart = new Int32Array(total).fill(-1);
  const categoryWords = new Int32Array(total);
  const words: number[] = [];
  let base = 0;
  booster.trees.forEach((tree, t) => {
    roots[t] = base;
    for (let i = 0; i < tree.left.length; i++) {
      const k = base + i;
      if (tree.left[i] === -1) {
        feature[k] = -1;
        left[k] = right[k] = k;
        value[k] = tree.splitCondition[i]!;
        continue;
      }
      feature[k] = tree.splitIndex[i]!;
      condition[k] = tree.splitCondition[i]!;
      defaultLeft[k] = tree.defaultLeft[i]!;
      left[k] = base + tree.left[i]!;
      right[k] = base + tree.right[i]!;
      const set = tree.categorySets.get(i);
      if (set) {
        const count = set.length === 0 ? 0 : (Math.max(...set) >>> 5) + 1;
        categoryStart[k] = words.length;
        categoryWords[k] = count;
        const start = words.length;
        for (let w = 0; w < count; w++) words.push(0);
        for (const c of set) words[start + (c >>> 5)]! |= 1 << (c & 31);
        condition[k] = Number.NaN;
      }
    }
    base += tree.left.length;
  });
  return {
    featureCount: booster.numFeature,
    baseMargin: baseMarginOf(booster.baseScore),
    roots,
    feature,
    condition,
    defaultLeft,
    left,
    right,
    value,
    categoryStart,
    categoryWords,
    categoryBits: Uint32Array.from(words, (w) => w >>> 0),
  };
}

/** Whether category value v goes right at categorical node k (xgboost's Decision, negated). */
function inCategorySet(forest: XgboostForest, k: number, v: number): boolean {
  if (v < 0 || v > MAX_CATEGORY_CODE) return false;
  const code = Math.trunc(v);
  const word = code >>> 5;
  if (word >= forest.categoryWords[k]!) return false;
  return ((forest.categoryBits[forest.categoryStart[k]! + word]! >>> (code & 31)) & 1) === 1;
}

/**
 * Adds the forest's margin of `rows` rows to `margins` (float32 accumulators, one per row, set to the
 * base margin by the caller): row i's feature f is `x[i * featureCount + f]`. Tree by tree over the
 * block, so one tree's nodes stay in cache; each row's sum still runs in tree order, as xgboost's.
 */
export function addBlockMargins(
  forest: XgboostForest,
  x: Float32Array,
  rows: number,
  margins: Float32Array,
): void {
  const { roots, feature, condition, defaultLeft, left, right, value, categoryStart } = forest;
  const nf = forest.featureCount;
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t]!;
    for (let i = 0; i < rows; i++) {
      const offset = i * nf;
      let node = root;
      let f = feature[node]!;
      while (f >= 0) {
        const v = x[offset + f]!;
        if (Number.isNaN(v)) node = defaultLeft[node] === 1 ? left[node]! : right[node]!;
        else if (categoryStart[node]! < 0) node = v < condition[node]! ? left[node]! : right[node]!;
        else node = inCategorySet(forest, node, v) ? right[node]! : left[node]!;
        f = feature[node]!;
      }
      margins[i] = margins[i]! + value[node]!;
    }
  }
}

/** Rows per block when scoring columns: a block's float32 rows stay in L1/L2 while every tree walks them. */
export const XGBOOST_BLOCK_ROWS = 256;
