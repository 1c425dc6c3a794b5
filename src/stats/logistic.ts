/**
 * The logistic function, one definition for the model (boosting loss, Platt calibration) and the data
 * generator and simulators that stand in for real customers.
 */

/**
 * 1 / (1 + e^−x). Kept in this plain form on purpose: the trained model's scores are computed with it, and
 * a rearranged "stable" form (e^x / (1 + e^x) for x < 0) rounds differently in the last bit, which would
 * change stored scores and test fixtures. It is already safe at the extremes: e^−x overflows to Infinity
 * for x < −709, giving 0, and underflows to 0 for large x, giving 1; never NaN for a finite x.
 * @example sigmoid(0) // 0.5
 */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
