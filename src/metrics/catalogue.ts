/**
 * Every metric churnwatch exports or pushes: name, type, help, labels, buckets. The server registers
 * its metrics from here, the training push uses the training entries, and the Grafana dashboards and
 * Prometheus rules (src/provisioning/) take their names from here too; a test fails on any name used
 * in a dashboard or rule that is not in this catalogue.
 *
 * Conventions: `churnwatch_` prefix, base units in the name's suffix (`_seconds`, `_ratio`), `_total`
 * for counters, label values bounded by the reference profile (never raw user input).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Who produces the series: the API process, the monitor (in-process or `churnwatch monitor`), or training via the Pushgateway. */
export type MetricSource = 'server' | 'monitor' | 'training';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly source: MetricSource;
  readonly buckets?: readonly number[];
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
const SCORE_BUCKETS = [
  0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1,
] as const;
/** Label delays from seconds (time-compressed demo) to weeks (real churn labels). */
const LABEL_DELAY_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 3600, 21600, 86400, 604800, 2592000] as const;

export const METRICS = {
  // --- HTTP (server) ---
  httpRequests: {
    name: 'churnwatch_http_requests_total',
    type: 'counter',
    help: 'HTTP requests answered, by route template, method and status code.',
    labelNames: ['method', 'route', 'status_code'],
    source: 'server',
  },
  httpRequestDuration: {
    name: 'churnwatch_http_request_duration_seconds',
    type: 'histogram',
    help: 'HTTP request latency from receipt to response, by route template, method and status code.',
    labelNames: ['method', 'route', 'status_code'],
    source: 'server',
    buckets: LATENCY_BUCKETS,
  },
  httpRequestTimeouts: {
    name: 'churnwatch_http_request_timeouts_total',
    type: 'counter',
    help: 'Requests cut off with 408 because their headers or body did not arrive within the request timeouts (not in churnwatch_http_requests_total).',
    labelNames: [],
    source: 'server',
  },

  // --- Model (server) ---
  modelInfo: {
    name: 'churnwatch_model_info',
    type: 'gauge',
    help: 'The model this process serves (value 1), with its version and training time.',
    labelNames: ['model_version', 'trained_at'],
    source: 'server',
  },
  modelThreshold: {
    name: 'churnwatch_model_threshold_ratio',
    type: 'gauge',
    help: 'Decision threshold on the calibrated churn probability.',
    labelNames: ['model_version'],
    source: 'server',
  },
  modelValidation: {
    name: 'churnwatch_model_validation_metric',
    type: 'gauge',
    help: 'Validation metrics measured at training time (roc_auc, log_loss, brier, average_precision, accuracy, precision, recall, f1).',
    labelNames: ['model_version', 'metric'],
    source: 'server',
  },
  modelReloads: {
    name: 'churnwatch_model_reloads_total',
    type: 'counter',
    help: 'Model reload attempts through POST /admin/reload, by result (success, failure).',
    labelNames: ['result'],
    source: 'server',
  },

  // --- Predictions (server) ---
  predictions: {
    name: 'churnwatch_predictions_total',
    type: 'counter',
    help: 'Predictions served, by predicted class (0 = stays, 1 = churns).',
    labelNames: ['model_version', 'predicted_class'],
    source: 'server',
  },
  predictionScore: {
    name: 'churnwatch_prediction_score',
    type: 'histogram',
    help: 'Calibrated churn probability of served predictions.',
    labelNames: ['model_version'],
    source: 'server',
    buckets: SCORE_BUCKETS,
  },
  scoreValues: {
    name: 'churnwatch_score_values_total',
    type: 'counter',
    help: 'Served predictions per reference score bin (the training score deciles), for prediction drift.',
    labelNames: ['model_version', 'bin'],
    source: 'server',
  },
  scoreReferenceShare: {
    name: 'churnwatch_score_reference_ratio',
    type: 'gauge',
    help: 'Share of the training part in each reference score bin.',
    labelNames: ['model_version', 'bin'],
    source: 'server',
  },
  expectedConfusion: {
    name: 'churnwatch_expected_confusion_total',
    type: 'counter',
    help: 'Expected confusion counts from calibrated scores at prediction time (CBPE): a churn prediction with probability p adds p to tp and 1-p to fp; a stay prediction adds p to fn and 1-p to tn.',
    labelNames: ['model_version', 'outcome'],
    source: 'server',
  },

  // --- Model input (server) ---
  featureValues: {
    name: 'churnwatch_feature_values_total',
    type: 'counter',
    help: 'Input values per feature and reference bin (quantile bins or top categories, plus below, above, other, unseen, missing).',
    labelNames: ['model_version', 'feature', 'bin'],
    source: 'server',
  },
  featureReferenceShare: {
    name: 'churnwatch_feature_reference_ratio',
    type: 'gauge',
    help: 'Share of the training part in each reference bin of each feature.',
    labelNames: ['model_version', 'feature', 'bin'],
    source: 'server',
  },

  // --- Feedback (server) ---
  feedback: {
    name: 'churnwatch_feedback_total',
    type: 'counter',
    help: 'Feedback items received, by actual class and outcome (joined, pending, duplicate, conflict).',
    labelNames: ['actual_class', 'status'],
    source: 'server',
  },
  feedbackPending: {
    name: 'churnwatch_feedback_pending',
    type: 'gauge',
    help: 'Feedback items stored but not yet joined to a prediction.',
    labelNames: [],
    source: 'server',
  },
  feedbackPendingOldestAge: {
    name: 'churnwatch_feedback_pending_oldest_age_seconds',
    type: 'gauge',
    help: 'Age of the oldest pending feedback item (since it was received); 0 when none waits.',
    labelNames: [],
    source: 'server',
  },
  feedbackPendingDropped: {
    name: 'churnwatch_feedback_pending_dropped_total',
    type: 'counter',
    help: 'Pending feedback items deleted unjoined: reason cap (the oldest beyond --pending-feedback-max) or expired (older than --pending-feedback-ttl).',
    labelNames: ['reason'],
    source: 'server',
  },
  feedbackPendingRetries: {
    name: 'churnwatch_feedback_pending_retries_total',
    type: 'counter',
    help: 'Join attempts of pending feedback items: each one a prediction written since could match.',
    labelNames: [],
    source: 'server',
  },
  labelDelay: {
    name: 'churnwatch_label_delay_seconds',
    type: 'histogram',
    help: 'Time from prediction to observed outcome, for joined feedback.',
    labelNames: ['model_version'],
    source: 'server',
    buckets: LABEL_DELAY_BUCKETS,
  },
  realizedConfusion: {
    name: 'churnwatch_realized_confusion_total',
    type: 'counter',
    help: 'Realized confusion counts, incremented when feedback joins its prediction (outcome tp, fp, tn, fn).',
    labelNames: ['model_version', 'outcome'],
    source: 'server',
  },

  // --- Store (server) ---
  storeQueueLength: {
    name: 'churnwatch_store_queue_length',
    type: 'gauge',
    help: 'Predictions acknowledged but not yet written to the store.',
    labelNames: [],
    source: 'server',
  },
  storeFlushDuration: {
    name: 'churnwatch_store_flush_duration_seconds',
    type: 'histogram',
    help: 'Time to write one batch of predictions to the store.',
    labelNames: ['store'],
    source: 'server',
    buckets: LATENCY_BUCKETS,
  },
  storeWriteErrors: {
    name: 'churnwatch_store_write_errors_total',
    type: 'counter',
    help: 'Failed batch writes to the store (they are retried).',
    labelNames: ['store'],
    source: 'server',
  },
  storeSize: {
    name: 'churnwatch_store_size_bytes',
    type: 'gauge',
    help: "Bytes the store takes on disk: SQLite's file and its write-ahead log; PostgreSQL's tables with their indexes.",
    labelNames: ['store'],
    source: 'server',
  },
  storeOldestPrediction: {
    name: 'churnwatch_store_oldest_prediction_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time of the oldest prediction kept in the store (absent while it holds none).',
    labelNames: ['store'],
    source: 'server',
  },
  storeRetention: {
    name: 'churnwatch_store_retention_seconds',
    type: 'gauge',
    help: 'How long predictions are kept (--retention); absent when they are kept forever.',
    labelNames: [],
    source: 'server',
  },
  storeRetentionDeleted: {
    name: 'churnwatch_store_retention_deleted_total',
    type: 'counter',
    help: 'Rows deleted by retention: kind prediction (made before now minus --retention) or feedback (resolved to one of those).',
    labelNames: ['store', 'kind'],
    source: 'server',
  },

  // --- Windowed statistics (monitor) ---
  driftScore: {
    name: 'churnwatch_drift_score',
    type: 'gauge',
    help: 'Drift statistic of the monitoring window against the reference, per feature (and score) and method.',
    labelNames: ['model_version', 'feature', 'method'],
    source: 'monitor',
  },
  driftPValue: {
    name: 'churnwatch_drift_p_value',
    type: 'gauge',
    help: 'p-value of the drift test, for methods that have one (ks, chi_square).',
    labelNames: ['model_version', 'feature', 'method'],
    source: 'monitor',
  },
  driftThreshold: {
    name: 'churnwatch_drift_threshold',
    type: 'gauge',
    help: 'Threshold of the drift statistic, calibrated on reference windows of the monitoring size.',
    labelNames: ['model_version', 'feature', 'method'],
    source: 'monitor',
  },
  driftDetected: {
    name: 'churnwatch_drift_detected',
    type: 'gauge',
    help: 'Verdict of the method the drift policy chose for the feature: 1 drifted, 0 not, absent while the window is too small.',
    labelNames: ['model_version', 'feature', 'method'],
    source: 'monitor',
  },
  datasetDriftShare: {
    name: 'churnwatch_dataset_drift_ratio',
    type: 'gauge',
    help: 'Share of features whose drift verdict is 1 in the monitoring window.',
    labelNames: ['model_version'],
    source: 'monitor',
  },
  windowRows: {
    name: 'churnwatch_monitor_window_rows',
    type: 'gauge',
    help: 'Predictions in the monitoring window, and how many of them have a label (kind = predictions, labeled).',
    labelNames: ['model_version', 'kind'],
    source: 'monitor',
  },
  windowPerformance: {
    name: 'churnwatch_window_performance',
    type: 'gauge',
    help: 'Model performance over the monitoring window: realized from joined labels or estimated from calibrated scores (CBPE).',
    labelNames: ['model_version', 'metric', 'kind'],
    source: 'monitor',
  },
  labelCoverage: {
    name: 'churnwatch_label_coverage_ratio',
    type: 'gauge',
    help: 'Share of predictions in the monitoring window that have a joined label.',
    labelNames: ['model_version'],
    source: 'monitor',
  },
  featureMissingShare: {
    name: 'churnwatch_feature_missing_ratio',
    type: 'gauge',
    help: 'Share of missing values per feature in the monitoring window (kind = current) and in the reference (kind = reference).',
    labelNames: ['model_version', 'feature', 'kind'],
    source: 'monitor',
  },

  // --- Training (pushed to the Pushgateway) ---
  trainingClassRows: {
    name: 'churnwatch_training_class_rows',
    type: 'gauge',
    help: 'Rows of the training part per class (the training class distribution).',
    labelNames: ['model_version', 'class'],
    source: 'training',
  },
  trainingFeatureValues: {
    name: 'churnwatch_training_feature_values',
    type: 'gauge',
    help: 'Rows of the training part per feature and reference bin, the same {feature, bin} shape as churnwatch_feature_values_total.',
    labelNames: ['model_version', 'feature', 'bin'],
    source: 'training',
  },
  trainingScoreValues: {
    name: 'churnwatch_training_score_values',
    type: 'gauge',
    help: 'Rows of the training part per reference score bin, the same shape as churnwatch_score_values_total.',
    labelNames: ['model_version', 'bin'],
    source: 'training',
  },
  trainingValidation: {
    name: 'churnwatch_training_validation_metric',
    type: 'gauge',
    help: 'Validation metrics of the trained model (roc_auc, log_loss, brier, average_precision, accuracy, precision, recall, f1).',
    labelNames: ['model_version', 'metric'],
    source: 'training',
  },
  trainingRows: {
    name: 'churnwatch_training_rows',
    type: 'gauge',
    help: 'Rows used, by part (train, validation).',
    labelNames: ['model_version', 'part'],
    source: 'training',
  },
  trainingDuration: {
    name: 'churnwatch_training_duration_seconds',
    type: 'gauge',
    help: 'Wall-clock duration of the training run.',
    labelNames: ['model_version'],
    source: 'training',
  },
  trainingLastSuccess: {
    name: 'churnwatch_training_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the last training run completed.',
    labelNames: ['model_version'],
    source: 'training',
  },

  // --- Drift calibration from the model artifact (server): the rules need no monitor role for these ---
  driftCalibratedThreshold: {
    name: 'churnwatch_drift_calibrated_threshold',
    type: 'gauge',
    help: 'Calibrated drift threshold from the model artifact, per feature (and score) and statistic the rules compute (psi, jensen_shannon), for windows of churnwatch_drift_calibration_window_rows rows; every API replica exports it.',
    labelNames: ['model_version', 'feature', 'method'],
    source: 'server',
  },
  driftCalibrationWindowRows: {
    name: 'churnwatch_drift_calibration_window_rows',
    type: 'gauge',
    help: 'Rows per window the calibrated drift thresholds were calibrated for (the rules scale them up for smaller windows).',
    labelNames: ['model_version'],
    source: 'server',
  },
  featureReferenceRows: {
    name: 'churnwatch_feature_reference_rows',
    type: 'gauge',
    help: 'Rows of the training part the reference bins of each feature (and score) were built from.',
    labelNames: ['model_version', 'feature'],
    source: 'server',
  },

  // --- Monitor role liveness ---
  monitorInProcess: {
    name: 'churnwatch_monitor_in_process',
    type: 'gauge',
    help: 'Value 1 when this API process runs the in-process monitor; absent with --no-monitor, where `churnwatch monitor serve` is the monitor role.',
    labelNames: [],
    // Exported by the in-process monitor only (not by `monitor serve`), on the API's /metrics.
    source: 'monitor',
  },
  monitorLastPoll: {
    name: 'churnwatch_monitor_last_poll_timestamp_seconds',
    type: 'gauge',
    help: "Unix time of the monitor role's last successful read of the prediction store (absent before the first).",
    labelNames: [],
    source: 'monitor',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** The Pushgateway job name training pushes under (grouping: job + model_version). */
export const TRAINING_PUSH_JOB = 'churnwatch_training';

/** Standard process metrics from prom-client's collectDefaultMetrics (no prefix, as everywhere). */
export const PROCESS_METRIC_NAMES = [
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_heap_size_used_bytes',
] as const;

/** Performance metric names used as the `metric` label value. */
export const PERFORMANCE_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'specificity',
  'roc_auc',
  'log_loss',
  'brier',
  'average_precision',
] as const;

/** Every series name a query may use: counters, gauges, and the _bucket/_sum/_count of histograms. */
export function exportedSeriesNames(): Set<string> {
  const names = new Set<string>(PROCESS_METRIC_NAMES);
  for (const spec of Object.values(METRICS) as MetricSpec[]) {
    if (spec.type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(spec.name + suffix);
    } else {
      names.add(spec.name);
    }
  }
  return names;
}
