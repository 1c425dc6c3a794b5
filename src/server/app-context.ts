/**
 * What the routes share: the model served now (swapped atomically on reload), the store and its
 * batched writer, the metrics and the optional observer. Routes read `models.current` once per
 * request, so a reload never changes the model under a request that has started.
 */

import type { RecordColumns } from '../data/record-columns.js';
import type { ModelRecorder, ServerMetrics } from '../metrics/create-metrics.js';
import type { ChurnModel } from '../model/churn-model.js';
import type { PredictionObserver } from '../monitor/prediction-observer.js';
import type { PredictionRecord, PredictionStore, ScoredPrediction } from '../store/prediction-store.js';
import type { ServeConfig } from './config.js';

export interface LoadedModel {
  readonly model: ChurnModel;
  readonly recorder: ModelRecorder;
  /** Where it was loaded from, when known. */
  readonly path: string | undefined;
  readonly loadedAt: number;
}

export interface ModelSlot {
  current: LoadedModel | undefined;
}

/** The store engineer's batched writer, as the server uses it. */
export interface PredictionWriter {
  /** Queues records; false when the queue is full (the request gets 503, nothing queued). */
  enqueue(records: readonly PredictionRecord[]): boolean;
  /** The same for records whose features are `columns` (row r is records[r]). */
  enqueueColumns(records: readonly ScoredPrediction[], columns: RecordColumns): boolean;
  /** True once everything queued before the call is written; false after `timeoutMs` (`--ack commit`). */
  committed(timeoutMs: number): Promise<boolean>;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
  readonly size: number;
  /** Whether `count` more records would fit now (checked before scoring, so overload is cheap to refuse). */
  hasRoom(count: number): boolean;
  /** Waits at most `timeoutMs` for room for `count` more records; false when none came. */
  waitForRoom(count: number, timeoutMs: number): Promise<boolean>;
}

export interface AppContext {
  readonly config: Pick<
    ServeConfig,
    | 'batchLimit'
    | 'bodyLimit'
    | 'adminToken'
    | 'modelPath'
    | 'queueWaitMs'
    | 'maxQueue'
    | 'ack'
    | 'commitTimeout'
  >;
  readonly models: ModelSlot;
  readonly store: PredictionStore;
  readonly writer: PredictionWriter;
  /** Why the prediction log's last write failed, while no write has succeeded since (for /readyz). */
  writeFailure(): string | undefined;
  readonly metrics: ServerMetrics;
  readonly observer: PredictionObserver | undefined;
  readonly clock: () => number;
  readonly newId: () => string;
  /** Loads a model, points the metrics at it and swaps it in; serialised. */
  reload(path?: string): Promise<{ previous: string | undefined; current: LoadedModel }>;
}
