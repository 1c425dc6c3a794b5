/**
 * Gradient histograms, the inner loop of training. Gradients and hessians arrive quantized to
 * integers (see GRADIENT_SCALE), so every histogram cell is an exact integer sum in a float64: the
 * result does not depend on the order rows are added, on how rows are split between threads, or on
 * whether a histogram was built or obtained by subtraction. That is what makes training
 * deterministic for a seed whatever the thread count.
 */

/** g in [-1, 1] times 2^22: 1.5M rows sum to < 2^53, so sums stay exact. */
export const GRADIENT_SCALE = 2 ** 22;
/** h in [0, 0.25] times 2^24. */
export const HESSIAN_SCALE = 2 ** 24;

/**
 * Each pass over a node's rows adds to the histograms of four features at once: the row's index and
 * gradient are loaded once for four cells, and the adds to one feature's cells are four apart, so
 * an add rarely waits for the previous one to the same cell (a feature's missing bin or mode holds
 * 35–100 % of the Expresso rows). Measured on 1.5M rows: 1.4 ns per row and feature, against 3.0 ns
 * one feature per pass.
 */
export interface HistogramInputs {
  /** Column-major uint8 bins of every training row. */
  readonly bins: Uint8Array;
  readonly rows: number;
  /** Row indices; a node owns a contiguous range of them. */
  readonly index: Uint32Array;
  readonly gradients: Int32Array;
  readonly hessians: Int32Array;
  /** First histogram cell of each feature (cumulative bin counts). */
  readonly offsets: Int32Array;
}

/** Per-thread working memory for accumulateHistogram: the gathered [g, h] of a node's rows. */
export function createHistogramScratch(maxRows: number): Float64Array {
  return new Float64Array(2 * maxRows + 2);
}

/**
 * Adds rows index[start..end) into `out` (interleaved [g, h] per cell) for the listed features.
 * O((end - start) · features).
 */
export function accumulateHistogram(
  input: HistogramInputs,
  start: number,
  end: number,
  features: Int32Array,
  featureCount: number,
  out: Float64Array,
  gathered: Float64Array,
): void {
  const { bins, rows, index, gradients, hessians, offsets } = input;
  const len = end - start;
  for (let i = 0; i < len; i++) {
    const r = index[start + i]!;
    gathered[2 * i] = gradients[r]!;
    gathered[2 * i + 1] = hessians[r]!;
  }
  let k = 0;
  for (; k + 3 < featureCount; k += 4) {
    const f0 = features[k]!;
    const f1 = features[k + 1]!;
    const f2 = features[k + 2]!;
    const f3 = features[k + 3]!;
    const c0 = f0 * rows;
    const c1 = f1 * rows;
    const c2 = f2 * rows;
    const c3 = f3 * rows;
    const b0 = offsets[f0]! * 2;
    const b1 = offsets[f1]! * 2;
    const b2 = offsets[f2]! * 2;
    const b3 = offsets[f3]! * 2;
    for (let i = 0; i < len; i++) {
      const r = index[start + i]!;
      const g = gathered[2 * i]!;
      const h = gathered[2 * i + 1]!;
      const x0 = b0 + (bins[c0 + r]! << 1);
      const x1 = b1 + (bins[c1 + r]! << 1);
      const x2 = b2 + (bins[c2 + r]! << 1);
      const x3 = b3 + (bins[c3 + r]! << 1);
      out[x0]! += g;
      out[x0 + 1]! += h;
      out[x1]! += g;
      out[x1 + 1]! += h;
      out[x2]! += g;
      out[x2 + 1]! += h;
      out[x3]! += g;
      out[x3 + 1]! += h;
    }
  }
  for (; k < featureCount; k++) {
    const f = features[k]!;
    const col = f * rows;
    const base = offsets[f]! * 2;
    for (let i = 0; i < len; i++) {
      const cell = base + (bins[col + index[start + i]!]! << 1);
      out[cell]! += gathered[2 * i]!;
      out[cell + 1]! += gathered[2 * i + 1]!;
    }
  }
}
