/**
 * The seam through which the in-process monitor sees traffic. The server calls it on the hot path,
 * after a request has been validated, scored and queued, so an observer must be cheap (append to a
 * ring buffer, no I/O) and must not throw.
 */
import type { Registry } from 'prom-client';
import type { RawFeatures } from '../data/feature-types.js';
import type { ChurnModel } from '../model/churn-model.js';
import type { RecordBins } from '../model/record-binner.js';
import type { FeedbackOutcome, PredictionRecord, ScoredPrediction } from '../store/prediction-store.js';

/** What observePredictions reads of a prediction: its features only when no bins come with it. */
export type ObservedPrediction = ScoredPrediction & { readonly features?: RawFeatures };

export interface PredictionObserver {
  /**
   * Predictions just acknowledged to a client (one call per request, in request order), with their
   * reference bins under the served model's profile when the caller has them (record-binner.ts).
   */
  observePredictions(records: readonly PredictionRecord[], bins?: RecordBins): void;
  /** The same with the bins required: the features are read from them, not from the records. */
  observePredictions(records: readonly ScoredPrediction[], bins: RecordBins): void;
  /** Feedback outcomes from POST /feedback and from the periodic join of pending feedback. */
  observeFeedback(outcomes: readonly FeedbackOutcome[]): void;
  /** Called once at startup so the observer can export its own gauges on the server's registry. */
  registerMetrics?(registry: Registry, getModel: () => ChurnModel | undefined): void;
}
