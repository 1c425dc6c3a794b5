/**
 * Fast batch scoring in bin space. The forest's raw thresholds are the training bin boundaries, so a
 * split "value <= upperBounds[b-1]" is exactly "bin(value) <= b" (bins as in feature-encoder.ts:
 * bin 0 missing, 1 + the number of bounds below the value otherwise), and only the bounds some split
 * uses are needed. Scoring a block of rows then is: bin each feature once (a branch-free search over
 * its used bounds), and walk every tree over one-byte columns. Each tree is laid out as a complete
 * binary tree of its depth (node n's children are 2n+1 and 2n+2: no pointers, no leaf test), one
 * 32-bit word per split holding the column offset and the bin threshold, so a step is one word load,
 * one byte load and a compare.
 *
 * Missing values need no test either: each feature has two byte columns in the block, one with
 * missing as 0 (0 <= every threshold: goes left) and one with every bin shifted down by one and
 * missing as 255 (> every shifted threshold: goes right). A split reads the column of its default
 * direction. Leaf sums are added in tree order from the base score, as scoreVector does, so margins
 * are bit-identical to the reference path (compiled-forest.ts).
 */
import type { Column, ColumnarTable } from '../data/columnar-table.js';
import type { CompiledForest } from './compiled-forest.js';
import { categoricalCodeBins, type FeatureEncoder } from './feature-encoder.js';

/** Rows binned and walked together: 2 · features bytes per row stay in L1/L2 while all trees run. */
export const SCORING_BLOCK = 256;
/** Deeper trees would make the complete layout too large; those forests use the reference path. */
const MAX_COMPLETE_DEPTH = 12;

export interface BinnedForest {
  readonly featureCount: number;
  /** Rows per block the split words were laid out for (SCORING_BLOCK when compiled; workers use this). */
  readonly block: number;
  readonly baseScore: number;
  /** Depth of each tree (its complete layout has 2^depth - 1 splits and 2^depth leaves). */
  readonly depth: Int32Array;
  /** Offset of each tree's splits in `split` and of its leaves in `leaf`. */
  readonly splitStart: Int32Array;
  readonly leafStart: Int32Array;
  /** (column · block) << 8 | bin threshold; go right when the block byte > threshold. */
  readonly split: Int32Array;
  readonly leaf: Float64Array;
  /** Per numeric feature the bounds its splits use, padded with +∞ to a power of two minus one; empty for categorical. */
  readonly bounds: readonly Float64Array[];
  /** 1 for each of the 2 · features block columns some split reads (the others are never filled). */
  readonly columnUsed: Uint8Array;
}

/**
 * Rewrites a compiled forest in bin space, or returns undefined when it cannot be done exactly (a
 * threshold that is not a bin boundary of its encoder, or a tree deeper than 12).
 */
export function compileBinnedForest(
  forest: CompiledForest,
  encoders: readonly FeatureEncoder[],
): BinnedForest | undefined {
  const nf = forest.featureCount;
  if (encoders.length !== nf || 2 * nf * SCORING_BLOCK >= 1 << 23) return undefined; // offsets fit 23 bits
  // Every bin must fit a byte (bins 1..255; shifted down by one, 255 is free for "missing").
  if (encoders.some((e) => (e.kind === 'numeric' ? e.upperBounds.length + 1 : e.categories.length) > 255))
    return undefined;
  const { roots, feature, threshold, defaultLeft, left, right, value } = forest;
  // Numeric features are binned on the thresholds the forest uses, not on every training bound:
  // fewer bounds, a shorter search. Bin r(v) = 1 + (used bounds below v), so for the j-th used bound
  // (1-based) "v <= bound" holds exactly when r(v) <= j; the "is missing" threshold (+∞, every value
  // left) becomes the largest bin, used count + 1.
  const usedBounds = encoders.map((e, f) => {
    if (e.kind === 'categorical') return [];
    const bounds = new Set(e.upperBounds);
    const used = new Set<number>();
    for (let k = 0; k < feature.length; k++) {
      if (feature[k] === f && bounds.has(threshold[k]!)) used.add(threshold[k]!);
    }
    return [...used].sort((a, b) => a - b);
  });
  const boundIndex = usedBounds.map((used) => new Map(used.map((v, j) => [v, j + 1])));
  const binOf = (f: number, t: number): number | undefined => {
    const encoder = encoders[f]!;
    if (encoder.kind === 'categorical') {
      return Number.isInteger(t) && t >= 1 && t <= encoder.categories.length ? t : undefined;
    }
    if (t === Number.POSITIVE_INFINITY) return usedBounds[f]!.length + 1;
    return boundIndex[f]!.get(t);
  };
  const depthOf = (k: number): number =>
    feature[k]! < 0 ? 0 : 1 + Math.max(depthOf(left[k]!), depthOf(right[k]!));
  const depth = Int32Array.from(roots, (r) => depthOf(r));
  if (depth.some((d) => d > MAX_COMPLETE_DEPTH)) return undefined;
  const splitStart = new Int32Array(roots.length);
  const leafStart = new Int32Array(roots.length);
  let splits = 0;
  let leaves = 0;
  depth.forEach((d, t) => {
    splitStart[t] = splits;
    leafStart[t] = leaves;
    splits += (1 << d) - 1;
    leaves += 1 << d;
  });
  const split = new Int32Array(splits);
  const leaf = new Float64Array(leaves);
  // A padding split ("always left"): column 0 holds bins with missing as 0, and every byte is <= 255.
  const ALWAYS_LEFT = 255;
  for (let t = 0; t < roots.length; t++) {
    const d = depth[t]!;
    const firstLeaf = (1 << d) - 1;
    // Place original node k at complete position pos; a leaf above the bottom repeats its value over
    // every bottom position below it (only the leftmost is reachable, through padding splits).
    const place = (k: number, pos: number, level: number): boolean => {
      if (feature[k]! < 0) {
        const span = 1 << (d - level);
        let p = pos;
        for (let l = level; l < d; l++) p = 2 * p + 1;
        // Bottom positions below `pos` are the contiguous range starting at its leftmost descendant.
        fillPadding(split, splitStart[t]!, pos, level, d, ALWAYS_LEFT);
        leaf.fill(value[k]!, leafStart[t]! + p - firstLeaf, leafStart[t]! + p - firstLeaf + span);
        return true;
      }
      const f = feature[k]!;
      const b = binOf(f, threshold[k]!);
      if (b === undefined || b < 1 || b > 255) return false;
      const missingLeft = defaultLeft[k] === 1;
      const column = missingLeft ? f : nf + f;
      split[splitStart[t]! + pos] = ((column * SCORING_BLOCK) << 8) | (missingLeft ? b : b - 1);
      return place(left[k]!, 2 * pos + 1, level + 1) && place(right[k]!, 2 * pos + 2, level + 1);
    };
    if (!place(roots[t]!, 0, 0)) return undefined;
  }
  const columnUsed = new Uint8Array(2 * nf);
  for (const word of split) columnUsed[Math.floor((word >> 8) / SCORING_BLOCK)] = 1;
  const bounds = usedBounds.map((used, f) => {
    if (encoders[f]!.kind === 'categorical') return new Float64Array(0);
    let size = 1;
    while (size - 1 < used.length) size *= 2;
    const padded = new Float64Array(size - 1).fill(Number.POSITIVE_INFINITY);
    padded.set(used);
    return padded;
  });
  return {
    featureCount: nf,
    block: SCORING_BLOCK,
    columnUsed,
    baseScore: forest.baseScore,
    depth,
    splitStart,
    leafStart,
    split,
    leaf,
    bounds,
  };
}

/** Marks every split in the subtree under a leaf that sits above the bottom as "always left". */
function fillPadding(
  split: Int32Array,
  start: number,
  pos: number,
  level: number,
  depth: number,
  word: number,
): void {
  let first = pos;
  let count = 1;
  for (let l = level; l < depth; l++) {
    split.fill(word, start + first, start + first + count);
    first = 2 * first + 1;
    count *= 2;
  }
}

/**
 * A table's features as scoring reads them: numeric columns as raw values (NaN = missing),
 * categorical columns already as bins (one lookup per row). A feature the table lacks is all missing.
 */
export type ScoringColumn =
  | { readonly kind: 'numeric'; readonly values: Float64Array }
  | { readonly kind: 'bins'; readonly bins: Uint8Array };

/** Checks kinds and maps category codes to bins. Throws TypeError naming a column of the wrong kind. */
export function scoringColumns(
  encoders: readonly FeatureEncoder[],
  table: ColumnarTable,
  allocate: (bytes: number) => ArrayBufferLike = (bytes) => new ArrayBuffer(bytes),
): ScoringColumn[] {
  const n = table.rowCount;
  return encoders.map((encoder): ScoringColumn => {
    const column: Column | undefined = table.columns.get(encoder.name);
    // fill(0): the allocator may hand out a reused buffer.
    if (!column) return { kind: 'bins', bins: new Uint8Array(allocate(n), 0, n).fill(0) };
    if (encoder.kind === 'numeric') {
      if (column.kind !== 'numeric') throw new TypeError(`column ${encoder.name} must be numeric`);
      return { kind: 'numeric', values: column.values };
    }
    if (column.kind !== 'categorical') throw new TypeError(`column ${encoder.name} must be categorical`);
    const map = categoricalCodeBins(encoder, column.dictionary);
    const bins = new Uint8Array(allocate(n), 0, n);
    const codes = column.codes;
    for (let i = 0; i < n; i++) bins[i] = map[codes[i]! + 1]!;
    return { kind: 'bins', bins };
  });
}

/**
 * Margins of rows [start, end) into out[start..end). Allocates one block buffer per call.
 * O(rows · (features · log bins + trees · depth)).
 */
export function scoreBinnedRows(
  forest: BinnedForest,
  columns: readonly ScoringColumn[],
  start: number,
  end: number,
  out: Float64Array,
): void {
  const nf = forest.featureCount;
  const block = forest.block;
  const x = new Uint8Array(2 * nf * block);
  for (let from = start; from < end; from += block) {
    const len = Math.min(block, end - from);
    fillBlock(forest, columns, from, len, x);
    walkBlock(forest, x, len, out, from);
  }
}

/**
 * The margin of one row whose values are given as scoreVector takes them (numbers as given, categories
 * as their rank, NaN when missing or unseen), through the bin-space walk: one 4-byte word per step
 * instead of the raw table's six arrays, so a lone record in a busy server (its caches taken by HTTP
 * between requests) touches a fraction of the cache lines. `categorical[f]` is 1 for a categorical
 * feature; `scratch` is a block buffer the caller keeps (blockScratch): nothing is allocated per call.
 * Bit-identical to scoreVector (tested).
 */
export function scoreBinnedOne(
  forest: BinnedForest,
  values: Float64Array,
  categorical: Uint8Array,
  scratch: Uint8Array,
): number {
  const nf = forest.featureCount;
  const used = forest.columnUsed;
  const block = forest.block;
  for (let f = 0; f < nf; f++) {
    const needHi = used[nf + f] === 1;
    if (used[f] !== 1 && !needHi) continue;
    const at = f * block;
    if (categorical[f] === 1) {
      const v = values[f]!;
      scratch[at] = Number.isNaN(v) ? 0 : v; // a category's rank is its bin
    } else binNumeric(values, forest.bounds[f]!, f, 1, scratch, at);
    const bin = scratch[at]!;
    if (needHi) scratch[(nf + f) * block] = (bin - 1) & 255;
  }
  // walkBlock's walk of one row, without its per-block set-up; leaves added in tree order as there.
  const { depth, splitStart, leafStart, split: S, leaf } = forest;
  let margin = forest.baseScore;
  for (let t = 0; t < depth.length; t++) {
    const d = depth[t]!;
    const s0 = splitStart[t]!;
    let n = 0;
    for (let k = 0; k < d; k++) {
      const w = S[s0 + n]!;
      n = 2 * n + 1 + (((w & 255) - scratch[w >> 8]!) >>> 31);
    }
    margin += leaf[leafStart[t]! - ((1 << d) - 1) + n]!;
  }
  return margin;
}

/** The block buffer scoreBinnedOne needs for this forest. */
export function blockScratch(forest: BinnedForest): Uint8Array {
  return new Uint8Array(2 * forest.featureCount * forest.block);
}

function fillBlock(
  forest: BinnedForest,
  columns: readonly ScoringColumn[],
  from: number,
  len: number,
  x: Uint8Array,
): void {
  const nf = forest.featureCount;
  const used = forest.columnUsed;
  for (let f = 0; f < nf; f++) {
    const needLo = used[f] === 1;
    const needHi = used[nf + f] === 1;
    if (!needLo && !needHi) continue; // no split reads this feature
    const column = columns[f]!;
    const lo = f * forest.block;
    const hi = (nf + f) * forest.block;
    // The missing-left column (0 = missing) is filled first; the shifted one is derived from it.
    if (column.kind === 'bins') {
      x.set(column.bins.subarray(from, from + len), lo);
    } else {
      binNumeric(column.values, forest.bounds[f]!, from, len, x, lo);
    }
    if (needHi) for (let i = 0; i < len; i++) x[hi + i] = (x[lo + i]! - 1) & 255; // missing (0) becomes 255
  }
}

/**
 * x[at + i] = bin of values[from + i]: 1 + (bounds below the value), 0 when missing. A branch-free
 * binary search (the +∞ padding is never below a value), four rows at a time so that their chains of
 * dependent loads overlap. NaN is below no bound, so a missing value ends at 0 + 0.
 */
function binNumeric(
  values: Float64Array,
  bounds: Float64Array,
  from: number,
  len: number,
  x: Uint8Array,
  at: number,
): void {
  const half = (bounds.length + 1) >> 1;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v0 = values[from + i]!;
    const v1 = values[from + i + 1]!;
    const v2 = values[from + i + 2]!;
    const v3 = values[from + i + 3]!;
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    let p3 = 0;
    for (let step = half; step > 0; step >>= 1) {
      p0 += +(bounds[p0 + step - 1]! < v0) * step;
      p1 += +(bounds[p1 + step - 1]! < v1) * step;
      p2 += +(bounds[p2 + step - 1]! < v2) * step;
      p3 += +(bounds[p3 + step - 1]! < v3) * step;
    }
    x[at + i] = p0 + +!Number.isNaN(v0);
    x[at + i + 1] = p1 + +!Number.isNaN(v1);
    x[at + i + 2] = p2 + +!Number.isNaN(v2);
    x[at + i + 3] = p3 + +!Number.isNaN(v3);
  }
  for (; i < len; i++) {
    const v = values[from + i]!;
    let p = 0;
    for (let step = half; step > 0; step >>= 1) p += +(bounds[p + step - 1]! < v) * step;
    x[at + i] = p + +!Number.isNaN(v);
  }
}

/**
 * Walks every tree for every row of the block, eight rows at a time so that their chains of
 * dependent loads overlap (that latency, not arithmetic, bounds tree walking). The root's word is
 * the same for every row, so the first level needs no load from the split table.
 */
function walkBlock(
  forest: BinnedForest,
  x: Uint8Array,
  len: number,
  out: Float64Array,
  offset: number,
): void {
  const { depth, splitStart, leafStart, split: S, leaf, baseScore } = forest;
  for (let i = 0; i < len; i++) out[offset + i] = baseScore;
  for (let t = 0; t < depth.length; t++) {
    const d = depth[t]!;
    const s0 = splitStart[t]!;
    const l0 = leafStart[t]! - ((1 << d) - 1);
    if (d === 0) {
      for (let i = 0; i < len; i++) out[offset + i]! += leaf[l0]!;
      continue;
    }
    const root = S[s0]!;
    const rc = root >> 8;
    const rt = root & 255;
    let i = 0;
    for (; i + 8 <= len; i += 8) {
      const c = rc + i;
      let n0 = 1 + ((rt - x[c]!) >>> 31);
      let n1 = 1 + ((rt - x[c + 1]!) >>> 31);
      let n2 = 1 + ((rt - x[c + 2]!) >>> 31);
      let n3 = 1 + ((rt - x[c + 3]!) >>> 31);
      let n4 = 1 + ((rt - x[c + 4]!) >>> 31);
      let n5 = 1 + ((rt - x[c + 5]!) >>> 31);
      let n6 = 1 + ((rt - x[c + 6]!) >>> 31);
      let n7 = 1 + ((rt - x[c + 7]!) >>> 31);
      for (let k = 1; k < d; k++) {
        const w0 = S[(s0 + n0) | 0]!;
        const w1 = S[(s0 + n1) | 0]!;
        const w2 = S[(s0 + n2) | 0]!;
        const w3 = S[(s0 + n3) | 0]!;
        const w4 = S[(s0 + n4) | 0]!;
        const w5 = S[(s0 + n5) | 0]!;
        const w6 = S[(s0 + n6) | 0]!;
        const w7 = S[(s0 + n7) | 0]!;
        n0 = (2 * n0 + 1 + (((w0 & 255) - x[((w0 >> 8) + i) | 0]!) >>> 31)) | 0;
        n1 = (2 * n1 + 1 + (((w1 & 255) - x[((w1 >> 8) + i + 1) | 0]!) >>> 31)) | 0;
        n2 = (2 * n2 + 1 + (((w2 & 255) - x[((w2 >> 8) + i + 2) | 0]!) >>> 31)) | 0;
        n3 = (2 * n3 + 1 + (((w3 & 255) - x[((w3 >> 8) + i + 3) | 0]!) >>> 31)) | 0;
        n4 = (2 * n4 + 1 + (((w4 & 255) - x[((w4 >> 8) + i + 4) | 0]!) >>> 31)) | 0;
        n5 = (2 * n5 + 1 + (((w5 & 255) - x[((w5 >> 8) + i + 5) | 0]!) >>> 31)) | 0;
        n6 = (2 * n6 + 1 + (((w6 & 255) - x[((w6 >> 8) + i + 6) | 0]!) >>> 31)) | 0;
        n7 = (2 * n7 + 1 + (((w7 & 255) - x[((w7 >> 8) + i + 7) | 0]!) >>> 31)) | 0;
      }
      const o = offset + i;
      out[o]! += leaf[l0 + n0]!;
      out[o + 1]! += leaf[l0 + n1]!;
      out[o + 2]! += leaf[l0 + n2]!;
      out[o + 3]! += leaf[l0 + n3]!;
      out[o + 4]! += leaf[l0 + n4]!;
      out[o + 5]! += leaf[l0 + n5]!;
      out[o + 6]! += leaf[l0 + n6]!;
      out[o + 7]! += leaf[l0 + n7]!;
    }
    for (; i < len; i++) {
      let n = 0;
      for (let k = 0; k < d; k++) {
        const w = S[s0 + n]!;
        n = 2 * n + 1 + (((w & 255) - x[(w >> 8) + i]!) >>> 31);
      }
      out[offset + i]! += leaf[l0 + n]!;
    }
  }
}
