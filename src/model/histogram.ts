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

/**
 * Adds rows index[start..end) into `out` (interleaved [g, h] per cell) for the listed features.
 * `scratch` holds the gathered gradients so the per-feature loops read them sequentially.
 * O((end - start) · features).
 */
export function accumulateHistogram(
  input: HistogramInputs,
  start: number,
  end: number,
  features: Int32Array,
  featureCount: number,
  out: Float64Array,
  scratch: Int32Array,
): void {
  const { bins, rows, index, gradients, hessians, offsets } = input;
  const len = end - start;
  for (let i = 0; i < len; i++) {
    const r = index[start + i]!;
    scratch[2 * i] = gradients[r]!;
    scratch[2 * i + 1] = hessians[r]!;
  }
  for (let k = 0; k < featureCount; k++) {
    const f = features[k]!;
    const col = f * rows;
    const base = offsets[f]! * 2;
    for (let i = 0; i < len; i++) {
      const cell = base + (bins[col + index[start + i]!]! << 1);
      out[cell]! += scratch[2 * i]!;
      out[cell + 1]! += scratch[2 * i + 1]!;
    }
  }
}
