/**
 * The one definition of every churnwatch alert: name, condition, thresholds, how long the condition must
 * hold (`for`), severity and summary. Two places use them and neither has numbers of its own:
 *
 * - provisioning/prometheus-rules.ts renders each as a Prometheus alerting rule (deploy/prometheus/rules);
 * - alert-evaluation.ts evaluates the window alerts (`WINDOW_ALERTS`) on the monitor's window, for the
 *   built-in dashboard (and holds them for `for` the way Prometheus does).
 *
 * Prometheus evaluates over a time window (`ALERT_WINDOW`, the last hour of counters); the dashboard over
 * the monitor's window (the last N predictions). Every threshold is the same on both sides.
 * docs/runbook.md has one section per alert; a test checks that the rules, the dashboard and Prometheus
 * (promtool) agree on the same window (test/integration/alert-agreement.test.ts).
 *
 * No imports (the drift policy takes its fallback PSI threshold from here): the server, the monitor
 * process, the dashboard and provisioning all read this module.
 */

export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface AlertDefinition<P extends Readonly<Record<string, number | string>>> {
  readonly name: string;
  readonly severity: AlertSeverity;
  /** How long the condition must hold before the alert fires (a Prometheus duration). */
  readonly for: string;
  /** The condition in words, thresholds by the names of `params`. */
  readonly condition: string;
  /** The thresholds of the condition. */
  readonly params: P;
  /** The rule's summary annotation (a Prometheus template: `$labels`, `$value`). */
  readonly summary: string;
}

/**
 * The PSI threshold when no calibrated one exists: the drift policy's fallback (drift-policy.ts), which
 * the monitor exports, and the drift alerts' default when the monitor exports none. One number for both.
 */
export const DEFAULT_PSI_THRESHOLD = 0.2;

/** The window the drift, quality and performance alerts look at in Prometheus (a recorded window). */
export const ALERT_WINDOW = '1h';

/** Labels are "not arriving" when no feedback joined a prediction over this long. */
const LABELS_EXPECTED_WITHIN = '1d';

const DEFINITIONS = {
  featureDrift: {
    name: 'ChurnwatchFeatureDrift',
    severity: 'warning',
    for: '15m',
    condition:
      "a feature's PSI over the window is above its threshold (the calibrated threshold every replica exports from the model artifact, scaled to the window's rows as the drift policy scales it; else defaultPsiThreshold), with at least minWindowRows rows",
    params: { minWindowRows: 500, defaultPsiThreshold: DEFAULT_PSI_THRESHOLD },
    summary: 'Feature {{ $labels.feature }} drifted (PSI {{ $value | printf "%.3f" }})',
  },
  predictionDrift: {
    name: 'ChurnwatchPredictionDrift',
    severity: 'warning',
    for: '15m',
    condition:
      "the PSI of the served scores over the window is above its threshold (the calibrated score threshold from the replicas, scaled to the window's rows; else defaultPsiThreshold), with at least minWindowRows predictions",
    params: { minWindowRows: 500, defaultPsiThreshold: DEFAULT_PSI_THRESHOLD },
    summary: 'Churn score distribution drifted (PSI {{ $value | printf "%.3f" }})',
  },
  realizedPerformanceLow: {
    name: 'ChurnwatchRealizedPerformanceLow',
    severity: 'critical',
    for: '30m',
    condition:
      'accuracy or F1 from the labels joined over the window is more than margin below its validation value, with at least minLabeledRows labelled predictions',
    params: { margin: 0.1, minLabeledRows: 200 },
    summary:
      'Realized {{ $labels.metric }} of model {{ $labels.model_version }} fell to {{ $value | printf "%.3f" }}',
  },
  estimatedPerformanceLow: {
    name: 'ChurnwatchEstimatedPerformanceLow',
    severity: 'warning',
    for: '30m',
    condition:
      'accuracy or F1 estimated from calibrated scores (CBPE) over the window is more than margin below its validation value, with at least minWindowRows predictions',
    params: { margin: 0.1, minWindowRows: 500 },
    summary:
      'Estimated {{ $labels.metric }} of model {{ $labels.model_version }} fell to {{ $value | printf "%.3f" }}',
  },
  labelsNotArriving: {
    name: 'ChurnwatchLabelsNotArriving',
    severity: 'warning',
    for: '30m',
    condition:
      'predictions were served over the window but no feedback joined a prediction over labelsExpectedWithin',
    params: { labelsExpectedWithin: LABELS_EXPECTED_WITHIN },
    summary: `Predictions flow but no label has joined for ${LABELS_EXPECTED_WITHIN}`,
  },
  feedbackPendingGrowing: {
    name: 'ChurnwatchFeedbackPendingGrowing',
    severity: 'warning',
    for: '30m',
    condition:
      'more than pendingMax feedback items wait for their prediction, and their number grew over the window',
    params: { pendingMax: 100 },
    summary: '{{ $value | printf "%.0f" }} feedback items wait for their prediction',
  },
  missingValueSpike: {
    name: 'ChurnwatchMissingValueSpike',
    severity: 'warning',
    for: '15m',
    condition:
      "a feature's missing share over the window exceeds its training share by more than margin (absolute), with at least minWindowRows rows",
    params: { margin: 0.1, minWindowRows: 500 },
    summary: 'Missing values of {{ $labels.feature }} rose to {{ $value | humanizePercentage }}',
  },
  highErrorRatio: {
    name: 'ChurnwatchHighErrorRatio',
    severity: 'critical',
    for: '5m',
    condition: 'more than errorRatioMax of the API requests answered 5xx over the HTTP window',
    params: { errorRatioMax: 0.05 },
    summary: 'API error ratio is {{ $value | humanizePercentage }}',
  },
  highLatency: {
    name: 'ChurnwatchHighLatency',
    severity: 'warning',
    for: '10m',
    condition: "a route's p99 latency over the HTTP window is above p99MaxSeconds (/metrics excluded)",
    params: { p99MaxSeconds: 0.5 },
    summary: 'p99 latency of {{ $labels.route }} is {{ $value | humanizeDuration }}',
  },
  apiDown: {
    name: 'ChurnwatchApiDown',
    severity: 'critical',
    for: '1m',
    condition: 'Prometheus cannot scrape an API replica, or finds no API target at all',
    params: {},
    summary: 'The churnwatch API{{ with $labels.instance }} {{ . }}{{ end }} is down',
  },
  monitorDown: {
    name: 'ChurnwatchMonitorDown',
    severity: 'warning',
    for: '5m',
    condition:
      'Prometheus cannot scrape the monitor role (`churnwatch monitor serve`), or finds no monitor target while an API replica runs without the in-process monitor',
    params: {},
    summary: 'The churnwatch monitor role is down',
  },
  monitorStale: {
    name: 'ChurnwatchMonitorStale',
    severity: 'warning',
    for: '5m',
    condition: "the monitor role's last successful read of the prediction store is older than maxAgeSeconds",
    params: { maxAgeSeconds: 120 },
    summary: 'The churnwatch monitor last read the store {{ $value | humanizeDuration }} ago',
  },
  retentionBehind: {
    name: 'ChurnwatchRetentionBehind',
    severity: 'warning',
    for: '30m',
    condition:
      'with --retention on, the oldest prediction a replica reports is older than the retention span plus slackSeconds',
    params: { slackSeconds: 3600 },
    summary: 'Retention is {{ $value | humanizeDuration }} behind its span',
  },
  pushgatewayDown: {
    name: 'ChurnwatchPushgatewayDown',
    severity: 'warning',
    for: '5m',
    condition: 'Prometheus cannot scrape the Pushgateway',
    params: {},
    summary: 'The Pushgateway {{ $labels.instance }} is down',
  },
  trainingMetricsStale: {
    name: 'ChurnwatchTrainingMetricsStale',
    severity: 'info',
    for: '1h',
    condition: 'the newest successful training run on the Pushgateway is older than maxAgeSeconds',
    params: { maxAgeSeconds: 7 * 86400 },
    summary: 'The last training run finished {{ $value | humanizeDuration }} ago',
  },
} as const;

type Widen<T> = T extends number ? number : string;

/** The shape of the definitions, with numbers and durations open (a test may pass other values). */
export type AlertDefinitions = {
  readonly [K in keyof typeof DEFINITIONS]: AlertDefinition<{
    readonly [P in keyof (typeof DEFINITIONS)[K]['params']]: Widen<(typeof DEFINITIONS)[K]['params'][P]>;
  }>;
};

/** The alert definitions. Change a number here, then run `churnwatch provision` to regenerate deploy/. */
export const ALERT_DEFINITIONS: AlertDefinitions = DEFINITIONS;

/** The alerts whose condition is about the monitored window, which the built-in dashboard evaluates too. */
export const WINDOW_ALERTS = [
  'featureDrift',
  'predictionDrift',
  'realizedPerformanceLow',
  'estimatedPerformanceLow',
  'labelsNotArriving',
  'missingValueSpike',
] as const satisfies readonly (keyof AlertDefinitions)[];

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A Prometheus duration of one unit (`15m`, `1d`, `500ms`) in ms. Throws RangeError on anything else. */
export function durationMs(duration: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(duration);
  if (!m) throw new RangeError(`not a one-unit duration: ${duration}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
