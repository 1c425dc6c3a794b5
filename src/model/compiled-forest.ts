/**
 * The trained ensemble flattened into typed arrays for scoring: one node table for all trees, raw
 * thresholds (so scoring never bins), a default direction per split for missing values. Scoring walks
 * tree by tree over blocks of rows (the node table stays in cache) and allocates nothing per row.
 */
import type { FeatureEncoder } from './feature-encoder.js';
import type { BinTree } from './gbdt.js';

export interface CompiledForest {
  readonly featureCount: number;
  readonly baseScore: number;
  /** Root node of each tree. */
  readonly roots: Int32Array;
  /** Split feature, -1 for a leaf. The children of node k are left[k] and right[k] = left[k] + 1. */
  readonly feature: Int32Array;
  /** Go left when value <= threshold (categorical values are their bin rank). */
  readonly threshold: Float64Array;
  /** Where a missing (NaN) value goes: 1 left, 0 right. */
  readonly defaultLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf value (margin contribution). */
  readonly value: Float64Array;
}

/** The serializable form (plain arrays) kept in model.json. */
export interface ForestJson {
  readonly featureCount: number;
  readonly baseScore: number;
  readonly roots: number[];
  readonly feature: number[];
  readonly threshold: (number | 'inf')[];
  readonly defaultLeft: number[];
  readonly left: number[];
  readonly right: number[];
  readonly value: number[];
}

/** Turns bin-space trees into raw thresholds using each feature's encoder. */
export function compileForest(
  baseScore: number,
  trees: readonly BinTree[],
  encoders: readonly FeatureEncoder[],
): CompiledForest {
  const total = trees.reduce((s, t) => s + t.feature.length, 0);
  const roots = new Int32Array(trees.length);
  const feature = new Int32Array(total);
  const threshold = new Float64Array(total);
  const defaultLeft = new Uint8Array(total);
  const left = new Int32Array(total);
  const right = new Int32Array(total);
  const value = new Float64Array(total);
  let base = 0;
  trees.forEach((tree, t) => {
    roots[t] = base;
    for (let i = 0; i < tree.feature.length; i++) {
      const f = tree.feature[i]!;
      const k = base + i;
      feature[k] = f;
      value[k] = tree.value[i]!;
      if (f < 0) {
        left[k] = -1;
        right[k] = -1;
        continue;
      }
      const encoder = encoders[f]!;
      const b = tree.bin[i]!;
      // Bin b holds values <= upperBounds[b-1]; the last value bin has no bound (everything non-missing).
      threshold[k] =
        encoder.kind === 'numeric' ? (encoder.upperBounds[b - 1] ?? Number.POSITIVE_INFINITY) : b;
      defaultLeft[k] = tree.defaultLeft[i] ? 1 : 0;
      left[k] = base + tree.left[i]!;
      right[k] = base + tree.right[i]!;
    }
    base += tree.feature.length;
  });
  return {
    featureCount: encoders.length,
    baseScore,
    roots,
    feature,
    threshold,
    defaultLeft,
    left,
    right,
    value,
  };
}

export function forestToJson(forest: CompiledForest): ForestJson {
  return {
    featureCount: forest.featureCount,
    baseScore: forest.baseScore,
    roots: [...forest.roots],
    feature: [...forest.feature],
    threshold: [...forest.threshold].map((v) => (v === Number.POSITIVE_INFINITY ? 'inf' : v)),
    defaultLeft: [...forest.defaultLeft],
    left: [...forest.left],
    right: [...forest.right],
    value: [...forest.value],
  };
}

export function forestFromJson(json: ForestJson): CompiledForest {
  const n = json.feature.length;
  for (const key of ['threshold', 'defaultLeft', 'left', 'right', 'value'] as const) {
    if (!Array.isArray(json[key]) || json[key].length !== n)
      throw new TypeError(`forest.${key} must have ${n} entries`);
  }
  const forest: CompiledForest = {
    featureCount: json.featureCount,
    baseScore: json.baseScore,
    roots: Int32Array.from(json.roots),
    feature: Int32Array.from(json.feature),
    threshold: Float64Array.from(json.threshold, (v) => (v === 'inf' ? Number.POSITIVE_INFINITY : v)),
    defaultLeft: Uint8Array.from(json.defaultLeft),
    left: Int32Array.from(json.left),
    right: Int32Array.from(json.right),
    value: Float64Array.from(json.value),
  };
  // Every child must point forward inside the table, so scoring can never loop or read outside it.
  for (let i = 0; i < n; i++) {
    const f = forest.feature[i]!;
    if (f >= forest.featureCount)
      throw new TypeError(`forest node ${i} uses feature ${f} of ${forest.featureCount}`);
    if (
      f >= 0 &&
      !(forest.left[i]! > i && forest.left[i]! < n && forest.right[i]! > i && forest.right[i]! < n)
    ) {
      throw new TypeError(`forest node ${i} has children outside the node table`);
    }
  }
  for (const r of forest.roots)
    if (r < 0 || r >= n) throw new TypeError(`forest root ${r} is outside the node table`);
  return forest;
}

/** Margin of one row given as a dense feature vector (NaN = missing). O(trees · depth). */
export function scoreVector(forest: CompiledForest, x: Float64Array): number {
  const { roots, feature, threshold, defaultLeft, left, right, value } = forest;
  let sum = forest.baseScore;
  for (let t = 0; t < roots.length; t++) {
    let node = roots[t]!;
    let f = feature[node]!;
    while (f >= 0) {
      const v = x[f]!;
      node =
        v <= threshold[node]! || (Number.isNaN(v) && defaultLeft[node] === 1) ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    sum += value[node]!;
  }
  return sum;
}

const BLOCK = 512;

/**
 * Margins of `rows` rows whose feature f value is `columns[f][row]` (NaN = missing), into `out`.
 * Rows are transposed a block at a time into a row-major buffer holding each row twice: once with
 * missing values as −∞ (they go left at every split) and once as +∞ (they go right). A split whose
 * missing values go right reads the second copy, so the step needs no test for NaN at all.
 * O(rows · trees · depth); allocates one block buffer per call.
 */
export function scoreColumns(
  forest: CompiledForest,
  columns: readonly ArrayLike<number>[],
  rows: number,
  out: Float64Array,
): void {
  const nf = forest.featureCount;
  const width = 2 * nf;
  const x = new Float64Array(BLOCK * width);
  for (let start = 0; start < rows; start += BLOCK) {
    const len = Math.min(BLOCK, rows - start);
    for (let f = 0; f < nf; f++) {
      const col = columns[f]!;
      for (let i = 0; i < len; i++) {
        const v = col[start + i]!;
        const missing = Number.isNaN(v);
        x[i * width + f] = missing ? Number.NEGATIVE_INFINITY : v;
        x[i * width + nf + f] = missing ? Number.POSITIVE_INFINITY : v;
      }
    }
    scoreBlock(forest, width, x, len, out, start);
  }
}

/**
 * The forest rearranged for batch scoring: a leaf points to itself and never moves (threshold +∞),
 * so every row takes exactly the tree's depth in steps with no "is it a leaf?" test, and four rows
 * descend side by side so that their chains of dependent loads overlap (that latency, and a
 * mispredicted branch per split, is what bounds naive tree walking). `column` is the feature's
 * position in the doubled row: f, or nf + f when the split sends missing values right.
 */
interface ScoringTables {
  readonly column: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly depth: Int32Array;
}

const tablesCache = new WeakMap<CompiledForest, ScoringTables>();

function scoringTables(forest: CompiledForest): ScoringTables {
  const cached = tablesCache.get(forest);
  if (cached) return cached;
  const n = forest.feature.length;
  const nf = forest.featureCount;
  const tables: ScoringTables = {
    column: new Int32Array(n),
    threshold: new Float64Array(n),
    left: new Int32Array(n),
    depth: new Int32Array(forest.roots.length),
  };
  for (let k = 0; k < n; k++) {
    const f = forest.feature[k]!;
    if (f < 0) {
      tables.column[k] = 0;
      tables.threshold[k] = Number.POSITIVE_INFINITY;
      tables.left[k] = k;
      continue;
    }
    const missingRight = forest.defaultLeft[k] === 0;
    tables.column[k] = missingRight ? nf + f : f;
    // "Every value left, missing right" has threshold +∞; the +∞ standing for missing must still go
    // right, so the largest finite number takes its place.
    const t = forest.threshold[k]!;
    tables.threshold[k] = t === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : t;
    tables.left[k] = forest.left[k]!;
  }
  const depthOf = (k: number): number =>
    forest.feature[k]! < 0 ? 0 : 1 + Math.max(depthOf(forest.left[k]!), depthOf(forest.right[k]!));
  forest.roots.forEach((root, t) => {
    tables.depth[t] = depthOf(root);
  });
  tablesCache.set(forest, tables);
  return tables;
}

/** Walks each tree for every row of a transposed block (`width` values per row), four rows at a time. */
function scoreBlock(
  forest: CompiledForest,
  width: number,
  x: Float64Array,
  len: number,
  out: Float64Array,
  offset: number,
): void {
  const { column: C, threshold: T, left: L, depth } = scoringTables(forest);
  const { roots, value } = forest;
  for (let i = 0; i < len; i++) out[offset + i] = forest.baseScore;
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t]!;
    const d = depth[t]!;
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      const b0 = i * width;
      const b1 = b0 + width;
      const b2 = b1 + width;
      const b3 = b2 + width;
      let n0 = root;
      let n1 = root;
      let n2 = root;
      let n3 = root;
      for (let k = 0; k < d; k++) {
        // The right child is left + 1: the step is arithmetic, not a branch.
        n0 = L[n0]! + +(x[b0 + C[n0]!]! > T[n0]!);
        n1 = L[n1]! + +(x[b1 + C[n1]!]! > T[n1]!);
        n2 = L[n2]! + +(x[b2 + C[n2]!]! > T[n2]!);
        n3 = L[n3]! + +(x[b3 + C[n3]!]! > T[n3]!);
      }
      out[offset + i]! += value[n0]!;
      out[offset + i + 1]! += value[n1]!;
      out[offset + i + 2]! += value[n2]!;
      out[offset + i + 3]! += value[n3]!;
    }
    for (; i < len; i++) {
      const b = i * width;
      let node = root;
      for (let k = 0; k < d; k++) node = L[node]! + +(x[b + C[node]!]! > T[node]!);
      out[offset + i]! += value[node]!;
    }
  }
}
