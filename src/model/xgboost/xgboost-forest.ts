/**
 * An XGBoost booster flattened into typed arrays and scored as xgboost's CPU predictor does, so the
 * probabilities agree with `Booster.predict` to float32 rounding:
 * - features are rounded to float32 (fillFeature), as xgboost casts its input;
 * - a numeric split goes left when `value < condition` (strict, float32; churnwatch's own trees use `<=`);
 * - a missing value (NaN) follows default_left (without a NaN test: see fillFeature);
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
  /** Steps from each tree's root to its deepest leaf: every walk takes exactly that many. */
  readonly depth: Int32Array;
  /**
   * Where a split reads its value in the doubled row (fillFeature): f when missing values go left,
   * featureCount + f when they go right (numeric); −1 − f for a categorical split; 0 at a leaf.
   */
  readonly column: Int32Array;
  /**
   * Numeric split condition (exact float32 value): the split goes right when value >= condition
   * (xgboost's `value < condition` goes left). NaN at a leaf and a categorical split.
   */
  readonly condition: Float64Array;
  /**
   * Children are adjacent: a split's left child is child[k], its right child child[k] + 1. A leaf's is
   * k itself and its condition NaN (nothing is >= NaN), so a walk that reached it stays there.
   */
  readonly child: Int32Array;
  /** Where a categorical split sends a missing value: 1 left, 0 right. */
  readonly defaultLeft: Uint8Array;
  /** Leaf value (exact float32 value); 0 at a split. */
  readonly value: Float64Array;
  /** A categorical split's first word in categoryBits. */
  readonly categoryStart: Int32Array;
  /** A categorical split's word count in categoryBits (0 for other nodes). */
  readonly categoryWords: Int32Array;
  /** Bit c of a node's words is set when category code c goes right. */
  readonly categoryBits: Uint32Array;
}

/** xgboost's ProbToMargin for binary:logistic, in float32: −log(1/p − 1). */
export function baseMarginOf(baseScore: number): number {
  const p = Math.fround(baseScore);
  return Math.fround(-Math.log(Math.fround(Math.fround(1 / p) - 1)));
}

/**
 * Renumbers the nodes of each tree breadth-first so that every split's two children are adjacent
 * (what the branch-free step `child + (value >= condition)` needs), and sets the categorical splits'
 * bitsets.
 */
export function compileXgboostForest(booster: XgboostBooster): XgboostForest {
  const nf = booster.numFeature;
  const total = booster.trees.reduce((s, t) => s + t.left.length, 0);
  const roots = new Int32Array(booster.trees.length);
  const depth = new Int32Array(booster.trees.length);
  const column = new Int32Array(total);
  const condition = new Float64Array(total).fill(Number.NaN);
  const child = new Int32Array(total);
  const defaultLeft = new Uint8Array(total);
  const value = new Float64Array(total);
  const categoryStart = new Int32Array(total);
  const categoryWords = new Int32Array(total);
  const words: number[] = [];
  let base = 0;
  booster.trees.forEach((tree, t) => {
    roots[t] = base;
    // Breadth-first: node base + i is tree node queue[i], at depth nodeDepth[i].
    const queue = [0];
    const nodeDepth = [0];
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i]!;
      const k = base + i;
      depth[t] = Math.max(depth[t]!, nodeDepth[i]!);
      if (tree.left[id] === -1) {
        child[k] = k;
        value[k] = tree.splitCondition[id]!;
        continue;
      }
      const f = tree.splitIndex[id]!;
      child[k] = base + queue.length;
      queue.push(tree.left[id]!, tree.right[id]!);
      nodeDepth.push(nodeDepth[i]! + 1, nodeDepth[i]! + 1);
      defaultLeft[k] = tree.defaultLeft[id]!;
      const set = tree.categorySets.get(id);
      if (!set) {
        column[k] = tree.defaultLeft[id] ? f : nf + f;
        condition[k] = tree.splitCondition[id]!;
        continue;
      }
      column[k] = -1 - f;
      const count = set.length === 0 ? 0 : (Math.max(...set) >>> 5) + 1;
      categoryStart[k] = words.length;
      categoryWords[k] = count;
      const start = words.length;
      for (let w = 0; w < count; w++) words.push(0);
      for (const c of set) words[start + (c >>> 5)]! |= 1 << (c & 31);
    }
    base += tree.left.length;
  });
  return {
    featureCount: nf,
    baseMargin: baseMarginOf(booster.baseScore),
    roots,
    depth,
    column,
    condition,
    child,
    defaultLeft,
    value,
    categoryStart,
    categoryWords,
    categoryBits: Uint32Array.from(words, (w) => w >>> 0),
  };
}

/**
 * Writes feature f of the row at `offset` into a doubled row of 2 · featureCount values: a missing
 * value (NaN) is −∞ in the first half and +∞ in the second, so a split whose missing values go left
 * reads the first half (−∞ < condition) and one whose go right the second, and the step needs no test
 * for NaN. A real ±∞ goes where xgboost sends it too. Values are rounded to float32, as xgboost casts
 * its input.
 */
export function fillFeature(
  x: Float64Array,
  offset: number,
  featureCount: number,
  f: number,
  v: number,
): void {
  const missing = Number.isNaN(v);
  x[offset + f] = missing ? Number.NEGATIVE_INFINITY : Math.fround(v);
  x[offset + featureCount + f] = missing ? Number.POSITIVE_INFINITY : Math.fround(v);
}

/** 1 when category value v (−∞ = missing) goes right at categorical split k, 0 when it goes left. */
function categoricalStep(forest: XgboostForest, k: number, v: number): number {
  if (v === Number.NEGATIVE_INFINITY) return forest.defaultLeft[k] === 1 ? 0 : 1;
  // xgboost's Decision: a negative, too large or unknown code goes left, a code in the set right.
  if (v < 0 || v > MAX_CATEGORY_CODE) return 0;
  const code = Math.trunc(v);
  const word = code >>> 5;
  if (word >= forest.categoryWords[k]!) return 0;
  return (forest.categoryBits[forest.categoryStart[k]! + word]! >>> (code & 31)) & 1;
}

/**
 * Adds the forest's margin of `rows` doubled rows (fillFeature; row i at x[i · 2 · featureCount]) to
 * `margins`, float32 accumulators set to the base margin by the caller. Tree by tree over the block,
 * so one tree's nodes stay in cache; each row's sum still runs in tree order, as xgboost's does. Every
 * walk takes the tree's depth in steps (a leaf stays put), so four rows descend side by side and their
 * chains of dependent loads overlap (what bounds a tree walk), as in compiled-forest.ts.
 */
export function addBlockMargins(
  forest: XgboostForest,
  x: Float64Array,
  rows: number,
  margins: Float32Array,
): void {
  const { roots, depth, column: C, condition: T, child: L, value } = forest;
  const width = 2 * forest.featureCount;
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const b0 = i * width;
    const b1 = b0 + width;
    const b2 = b1 + width;
    const b3 = b2 + width;
    for (let t = 0; t < roots.length; t++) {
      let n0 = roots[t]!;
      let n1 = n0;
      let n2 = n0;
      let n3 = n0;
      for (let d = depth[t]!; d > 0; d--) {
        const c0 = C[n0]!;
        const c1 = C[n1]!;
        const c2 = C[n2]!;
        const c3 = C[n3]!;
        n0 = L[n0]! + (c0 >= 0 ? +(x[b0 + c0]! >= T[n0]!) : categoricalStep(forest, n0, x[b0 - 1 - c0]!));
        n1 = L[n1]! + (c1 >= 0 ? +(x[b1 + c1]! >= T[n1]!) : categoricalStep(forest, n1, x[b1 - 1 - c1]!));
        n2 = L[n2]! + (c2 >= 0 ? +(x[b2 + c2]! >= T[n2]!) : categoricalStep(forest, n2, x[b2 - 1 - c2]!));
        n3 = L[n3]! + (c3 >= 0 ? +(x[b3 + c3]! >= T[n3]!) : categoricalStep(forest, n3, x[b3 - 1 - c3]!));
      }
      margins[i] = margins[i]! + value[n0]!;
      margins[i + 1] = margins[i + 1]! + value[n1]!;
      margins[i + 2] = margins[i + 2]! + value[n2]!;
      margins[i + 3] = margins[i + 3]! + value[n3]!;
    }
  }
  // Single rows (a record, a block's last few) stop at their leaf instead of walking the full depth.
  for (; i < rows; i++) {
    const b = i * width;
    for (let t = 0; t < roots.length; t++) {
      let n = roots[t]!;
      while (L[n] !== n) {
        const c = C[n]!;
        n = L[n]! + (c >= 0 ? +(x[b + c]! >= T[n]!) : categoricalStep(forest, n, x[b - 1 - c]!));
      }
      margins[i] = margins[i]! + value[n]!;
    }
  }
}

/** Rows per block when scoring columns. */
export const XGBOOST_BLOCK_ROWS = 256;
