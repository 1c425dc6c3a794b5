/**
 * Histogram gradient boosting for binary log loss (the XGBoost "hist" / LightGBM algorithm):
 * features are binned once (feature-encoder.ts), each tree grows best-first from gradient histograms,
 * a child's histogram is built for the smaller child only and the larger one is the parent's minus it,
 * and every split learns where missing values go. Gradients are quantized (histogram.ts) so that the
 * model is bit-identical for a seed whatever the thread count.
 *
 * References: Chen & Guestrin 2016 (XGBoost: split gain, L2 leaf weights, default directions),
 * Ke et al. 2017 (LightGBM: histogram subtraction, leaf-wise growth).
 */

import { createRng } from '../data/rng.js';
import { sigmoid } from '../stats/logistic.js';
import type { BinnedMatrix } from './feature-encoder.js';
import { GRADIENT_SCALE, HESSIAN_SCALE } from './histogram.js';
import { shuffledIndices } from './sampling.js';
import { createShardPool } from './shard-pool.js';
import { MarginUpdate, nodeRows, type TrainingBuffers } from './training-shard.js';

export interface GbdtParams {
  /** Maximum boosting rounds (trees). */
  readonly trees: number;
  readonly learningRate: number;
  /** Maximum depth of a tree (root = depth 0). */
  readonly maxDepth: number;
  /** Maximum leaves per tree; with 2^maxDepth the trees are the depth-wise ones. */
  readonly maxLeaves: number;
  /** Minimum hessian sum in a child (XGBoost min_child_weight). */
  readonly minChildWeight: number;
  /** L2 penalty on leaf weights (XGBoost lambda). */
  readonly lambda: number;
  /** Minimum loss reduction to split (XGBoost gamma). */
  readonly minSplitGain: number;
  /** Share of rows drawn (without replacement, Bernoulli) for each tree. */
  readonly subsample: number;
  /** Share of features drawn for each tree. */
  readonly colsample: number;
  /** Stop when validation log loss has not improved for this many rounds (0 = never). */
  readonly earlyStoppingRounds: number;
  /** Bins per feature including the missing bin, at most 256. */
  readonly maxBins: number;
  readonly seed: number;
  /** Threads building histograms (1 = this thread only). Does not change the model. */
  readonly threads: number;
}

export const DEFAULT_GBDT_PARAMS: GbdtParams = Object.freeze({
  trees: 300,
  learningRate: 0.1,
  maxDepth: 6,
  maxLeaves: 64,
  minChildWeight: 1,
  lambda: 1,
  minSplitGain: 0,
  subsample: 1,
  colsample: 1,
  earlyStoppingRounds: 20,
  maxBins: 255,
  seed: 42,
  threads: 1,
});

/** Checks parameter ranges; throws RangeError naming the parameter. */
export function validateGbdtParams(p: GbdtParams): GbdtParams {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(what);
  };
  check(Number.isInteger(p.trees) && p.trees >= 1, 'trees must be an integer >= 1');
  check(p.learningRate > 0 && p.learningRate <= 1, 'learningRate must be in (0, 1]');
  check(
    Number.isInteger(p.maxDepth) && p.maxDepth >= 1 && p.maxDepth <= 16,
    'maxDepth must be an integer in 1..16',
  );
  check(Number.isInteger(p.maxLeaves) && p.maxLeaves >= 2, 'maxLeaves must be an integer >= 2');
  check(p.minChildWeight >= 0, 'minChildWeight must be >= 0');
  check(p.lambda >= 0, 'lambda must be >= 0');
  check(p.minSplitGain >= 0, 'minSplitGain must be >= 0');
  check(p.subsample > 0 && p.subsample <= 1, 'subsample must be in (0, 1]');
  check(p.colsample > 0 && p.colsample <= 1, 'colsample must be in (0, 1]');
  check(
    Number.isInteger(p.earlyStoppingRounds) && p.earlyStoppingRounds >= 0,
    'earlyStoppingRounds must be an integer >= 0',
  );
  check(
    Number.isInteger(p.maxBins) && p.maxBins >= 3 && p.maxBins <= 256,
    'maxBins must be an integer in 3..256',
  );
  check(
    Number.isInteger(p.threads) && p.threads >= 1 && p.threads <= 64,
    'threads must be an integer in 1..64',
  );
  return p;
}

/** A tree in bin space: node i splits on feature[i] (-1 for a leaf) at "bin <= bin[i]". */
export interface BinTree {
  readonly feature: number[];
  readonly bin: number[];
  readonly defaultLeft: boolean[];
  readonly left: number[];
  readonly right: number[];
  /** Leaf value (already scaled by the learning rate); 0 for inner nodes. */
  readonly value: number[];
  /** Split gain of inner nodes (for feature importance). */
  readonly gain: number[];
}

export interface GbdtModel {
  /** Initial margin: the log-odds of the training churn rate. */
  readonly baseScore: number;
  readonly trees: readonly BinTree[];
  /** Validation log loss after each round (empty without validation). */
  readonly validationLogLoss: readonly number[];
  readonly bestIteration: number;
}

export interface TrainHooks {
  onRound?(round: number, validationLogLoss: number | undefined): void;
}

interface Split {
  gain: number;
  feature: number;
  bin: number;
  defaultLeft: boolean;
  /** Quantized sums of the left child. */
  gLeft: number;
  hLeft: number;
}

interface Leaf {
  node: number;
  /** Rows of the leaf, over all shards. */
  count: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array;
  split: Split | undefined;
}

function logLoss(margin: Float64Array, y: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, sigmoid(margin[i]!)));
    sum -= y[i] ? Math.log(p) : Math.log(1 - p);
  }
  return sum / Math.max(1, y.length);
}

/** Adds a bin-space tree's leaf values to `margin` for every row of `m`. O(rows · depth). */
export function addTreeMargins(tree: BinTree, m: BinnedMatrix, margin: Float64Array): void {
  const { bins, rows } = m;
  const { feature, bin, defaultLeft, left, right, value } = tree;
  for (let r = 0; r < rows; r++) {
    let node = 0;
    for (;;) {
      const f = feature[node]!;
      if (f < 0) break;
      const b = bins[f * rows + r]!;
      node = (b === 0 ? defaultLeft[node] : b <= bin[node]!) ? left[node]! : right[node]!;
    }
    margin[r]! += value[node]!;
  }
}

/**
 * Trains a boosted ensemble. `validation` enables early stopping (the model keeps the best round).
 * Deterministic for params.seed. O(trees · rows · features) with small constants.
 */
export async function trainGbdt(
  train: BinnedMatrix,
  target: Uint8Array,
  validation: { matrix: BinnedMatrix; target: Uint8Array } | undefined,
  params: GbdtParams,
  hooks: TrainHooks = {},
): Promise<GbdtModel> {
  validateGbdtParams(params);
  const n = train.rows;
  if (target.length !== n) throw new RangeError('target length must equal the number of rows');
  if (n < 2) throw new RangeError('training needs at least 2 rows');
  const nf = train.features;
  const rng = createRng(params.seed, 1);
  const offsets = new Int32Array(nf + 1);
  for (let f = 0; f < nf; f++) offsets[f + 1] = offsets[f]! + train.binCounts[f]!;
  const totalBins = offsets[nf]!;

  let positives = 0;
  for (let i = 0; i < n; i++) positives += target[i]!;
  const rate = Math.min(1 - 1e-6, Math.max(1e-6, positives / n));
  const baseScore = Math.log(rate / (1 - rate));

  const shared = <T>(make: (buffer: SharedArrayBuffer) => T, bytes: number) =>
    make(new SharedArrayBuffer(Math.max(8, bytes)));
  // Node ids are bounded by both the leaf count and the depth of a tree.
  const maxNodes = Math.min(2 * params.maxLeaves - 1, 2 ** (params.maxDepth + 1) - 1);
  const shards = Math.min(params.threads, Math.max(1, Math.floor(n / 20_000)));
  const sharedTarget = shared((b) => new Uint8Array(b), n);
  sharedTarget.set(target);
  const buffers: TrainingBuffers = {
    bins: train.bins,
    rows: n,
    offsets,
    target: sharedTarget,
    margin: shared((b) => new Float64Array(b), n * 8).fill(baseScore),
    gradients: shared((b) => new Int32Array(b), n * 4),
    hessians: shared((b) => new Int32Array(b), n * 4),
    index: shared((b) => new Uint32Array(b), n * 4),
    ranges: shared((b) => new Int32Array(b), maxNodes * shards * 2 * 4),
    shards,
    features: shared((b) => new Int32Array(b), nf * 4),
    treeFeature: shared((b) => new Int32Array(b), maxNodes * 4),
    treeBin: shared((b) => new Int32Array(b), maxNodes * 4),
    treeDefaultLeft: shared((b) => new Uint8Array(b), maxNodes),
    treeLeft: shared((b) => new Int32Array(b), maxNodes * 4),
    treeRight: shared((b) => new Int32Array(b), maxNodes * 4),
    treeValue: shared((b) => new Float64Array(b), maxNodes * 8),
    leafNodes: shared((b) => new Int32Array(b), params.maxLeaves * 4),
    outs: Array.from({ length: shards }, () => shared((b) => new Float64Array(b), totalBins * 2 * 8)),
  };
  const { ranges, features } = buffers;
  const rowsOf = (node: number) => nodeRows(ranges, shards, node);
  const validMargin = validation ? new Float64Array(validation.matrix.rows).fill(baseScore) : undefined;
  const pool = await createShardPool(buffers);
  const histFree: Float64Array[] = [];
  const takeHist = () => histFree.pop() ?? new Float64Array(totalBins * 2);

  const lambda = params.lambda;
  const mcw = params.minChildWeight;
  const invG = 1 / GRADIENT_SCALE;
  const invH = 1 / HESSIAN_SCALE;
  const score = (g: number, h: number) => (g * invG) ** 2 / (h * invH + lambda);

  const featureCount = Math.max(1, Math.round(params.colsample * nf));
  const sampleBelow = params.subsample >= 1 ? 2 ** 32 : Math.floor(params.subsample * 2 ** 32);

  function findSplit(leaf: Leaf): Split | undefined {
    if (leaf.depth >= params.maxDepth || leaf.count < 2) return undefined;
    const { hist, g: gTotal, h: hTotal } = leaf;
    const parent = score(gTotal, hTotal);
    let best: Split | undefined;
    for (let k = 0; k < featureCount; k++) {
      const f = features[k]!;
      const base = offsets[f]! * 2;
      const nb = offsets[f + 1]! - offsets[f]!;
      const gMiss = hist[base]!;
      const hMiss = hist[base + 1]!;
      let gl = 0;
      let hl = 0;
      // b = nb - 1 puts every value left and only missing right: the "is missing" split.
      const last = hMiss > 0 ? nb - 1 : nb - 2;
      for (let b = 1; b <= last; b++) {
        gl += hist[base + 2 * b]!;
        hl += hist[base + 2 * b + 1]!;
        for (let side = 0; side < 2; side++) {
          const missLeft = side === 1;
          if (missLeft && hMiss === 0) continue;
          const gL = missLeft ? gl + gMiss : gl;
          const hL = missLeft ? hl + hMiss : hl;
          const gR = gTotal - gL;
          const hR = hTotal - hL;
          if (hL * invH < mcw || hR * invH < mcw || hL <= 0 || hR <= 0) continue;
          const gain = 0.5 * (score(gL, hL) + score(gR, hR) - parent) - params.minSplitGain;
          if (gain > 1e-12 && (best === undefined || gain > best.gain)) {
            // Without missing values here, unseen ones follow the heavier child.
            const defaultLeft = hMiss > 0 ? missLeft : hL >= hR;
            best = { gain, feature: f, bin: b, defaultLeft, gLeft: gL, hLeft: hL };
          }
        }
      }
    }
    return best;
  }

  const trees: BinTree[] = [];
  const validationLogLoss: number[] = [];
  let bestIteration = -1;
  let bestLoss = Number.POSITIVE_INFINITY;
  try {
    let leafCount = 0;
    for (let round = 0; round < params.trees; round++) {
      if (featureCount < nf) {
        const order = shuffledIndices(nf, rng).subarray(0, featureCount).sort();
        features.set(order);
      } else {
        for (let f = 0; f < nf; f++) features[f] = f;
      }
      // The shards apply the previous tree to their margins, then compute gradients and the root.
      const update =
        round === 0
          ? MarginUpdate.None
          : sampleBelow >= 2 ** 32
            ? MarginUpdate.LeafRanges
            : MarginUpdate.TreeWalk;
      const rootHist = takeHist();
      pool.beginRound({ update, leafCount, round, seed: params.seed, sampleBelow, featureCount }, rootHist);

      const tree: BinTree = {
        feature: [-1],
        bin: [0],
        defaultLeft: [false],
        left: [-1],
        right: [-1],
        value: [0],
        gain: [0],
      };
      let gRoot = 0;
      let hRoot = 0;
      const f0 = features[0]!;
      for (let c = offsets[f0]! * 2; c < offsets[f0 + 1]! * 2; c += 2) {
        gRoot += rootHist[c]!;
        hRoot += rootHist[c + 1]!;
      }
      const root: Leaf = {
        node: 0,
        count: rowsOf(0),
        depth: 0,
        g: gRoot,
        h: hRoot,
        hist: rootHist,
        split: undefined,
      };
      root.split = findSplit(root);
      const leaves: Leaf[] = [root];
      while (leaves.length < params.maxLeaves) {
        let pick = -1;
        for (let i = 0; i < leaves.length; i++) {
          const s = leaves[i]!.split;
          if (s && (pick < 0 || s.gain > leaves[pick]!.split!.gain)) pick = i;
        }
        if (pick < 0) break;
        const leaf = leaves[pick]!;
        const split = leaf.split!;
        const leftNode = tree.feature.length;
        const rightNode = leftNode + 1;
        for (const _ of [leftNode, rightNode]) {
          tree.feature.push(-1);
          tree.bin.push(0);
          tree.defaultLeft.push(false);
          tree.left.push(-1);
          tree.right.push(-1);
          tree.value.push(0);
          tree.gain.push(0);
        }
        tree.feature[leaf.node] = split.feature;
        tree.bin[leaf.node] = split.bin;
        tree.defaultLeft[leaf.node] = split.defaultLeft;
        tree.left[leaf.node] = leftNode;
        tree.right[leaf.node] = rightNode;
        tree.gain[leaf.node] = split.gain;
        const hRight = leaf.h - split.hLeft;
        const canSplit = leaf.depth + 1 < params.maxDepth;
        // The child with less hessian is (nearly always) the one with fewer rows: build its
        // histogram, and the other is the parent's minus it.
        const build = !canSplit ? 0 : split.hLeft <= hRight ? 1 : 2;
        const smallHist = build === 0 ? undefined : takeHist();
        pool.split(
          {
            node: leaf.node,
            left: leftNode,
            right: rightNode,
            feature: split.feature,
            bin: split.bin,
            defaultLeft: split.defaultLeft,
            build,
            featureCount,
          },
          smallHist,
        );
        const left: Leaf = {
          node: leftNode,
          count: rowsOf(leftNode),
          depth: leaf.depth + 1,
          g: split.gLeft,
          h: split.hLeft,
          hist: leaf.hist,
          split: undefined,
        };
        const right: Leaf = {
          node: rightNode,
          count: rowsOf(rightNode),
          depth: leaf.depth + 1,
          g: leaf.g - split.gLeft,
          h: hRight,
          hist: leaf.hist,
          split: undefined,
        };
        if (smallHist) {
          const parentHist = leaf.hist;
          for (let k = 0; k < featureCount; k++) {
            const f = features[k]!;
            for (let c = offsets[f]! * 2; c < offsets[f + 1]! * 2; c++) parentHist[c]! -= smallHist[c]!;
          }
          const [small, large] = build === 1 ? [left, right] : [right, left];
          small.hist = smallHist;
          large.hist = parentHist;
          left.split = findSplit(left);
          right.split = findSplit(right);
        } else {
          histFree.push(leaf.hist);
        }
        leaves.splice(pick, 1, left, right);
      }
      leafCount = 0;
      for (const leaf of leaves) {
        const denominator = leaf.h * invH + lambda;
        tree.value[leaf.node] = denominator > 0 ? (-(leaf.g * invG) / denominator) * params.learningRate : 0;
        if (!histFree.includes(leaf.hist)) histFree.push(leaf.hist);
        buffers.leafNodes[leafCount++] = leaf.node;
      }
      // The next round's margin update reads the tree from shared memory.
      for (let node = 0; node < tree.feature.length; node++) {
        buffers.treeFeature[node] = tree.feature[node]!;
        buffers.treeBin[node] = tree.bin[node]!;
        buffers.treeDefaultLeft[node] = tree.defaultLeft[node] ? 1 : 0;
        buffers.treeLeft[node] = tree.left[node]!;
        buffers.treeRight[node] = tree.right[node]!;
        buffers.treeValue[node] = tree.value[node]!;
      }
      trees.push(tree);
      let vLoss: number | undefined;
      if (validation && validMargin) {
        addTreeMargins(tree, validation.matrix, validMargin);
        vLoss = logLoss(validMargin, validation.target);
        validationLogLoss.push(vLoss);
        if (vLoss < bestLoss - 1e-12) {
          bestLoss = vLoss;
          bestIteration = round;
        }
      } else {
        bestIteration = round;
      }
      hooks.onRound?.(round, vLoss);
      if (validation && params.earlyStoppingRounds > 0 && round - bestIteration >= params.earlyStoppingRounds)
        break;
    }
  } finally {
    await pool.close();
  }
  // With early stopping the model keeps its best round; without it, every tree asked for.
  const keep = validation && params.earlyStoppingRounds > 0 ? bestIteration + 1 : trees.length;
  return { baseScore, trees: trees.slice(0, keep), validationLogLoss, bestIteration };
}
