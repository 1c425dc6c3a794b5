/**
 * The Prometheus recording and alerting rules, as data. Drift, performance and churn rates are
 * computed here from counters that every replica exports (see docs/stack.md: counters sum across
 * replicas), so the numbers are right for any number of `serve` processes and any window.
 *
 * Conventions (the project's, see docs/drift.md): shares are floored at 1e-4;
 * PSI = Σ (cur − ref)·ln(cur/ref) on the floored shares; Jensen-Shannon is the base-2 distance
 * (SciPy's `jensenshannon(base=2)`, which renormalises its inputs) on the same floored shares.
 */
import {
  ALERT_DEFINITIONS,
  ALERT_WINDOW,
  type AlertDefinition,
  type AlertDefinitions,
} from '../monitor/alert-definitions.js';
import { increaseAcrossReplicas, metric, oneAcrossReplicas, REPLICA_LABELS, selector } from './promql.js';

export interface RuleOptions {
  /** Monitoring windows to record (PromQL durations); the first is the one alerts use unless `alertWindow` says otherwise. */
  readonly windows: readonly string[];
  readonly alertWindow: string;
  /** Floor applied to every share before PSI and Jensen-Shannon (the project convention). */
  readonly shareFloor: number;
  /** Used when neither the replicas nor the monitor export a Jensen-Shannon threshold for a feature. */
  readonly defaultJensenShannonThreshold: number;
  /** The alerts: names, conditions' thresholds, `for`, severities, summaries (monitor/alert-definitions.ts). */
  readonly alerts: AlertDefinitions;
  /** Scrape job names from prometheus.yml. */
  readonly apiJob: string;
  /** The monitor role's job (`churnwatch monitor serve`). */
  readonly monitorJob: string;
  readonly pushgatewayJob: string;
  /** Where the runbook lives; each alert links to `<runbookUrl>#<alert name in lower case>`. */
  readonly runbookUrl: string;
}

export const DEFAULT_RULE_OPTIONS: RuleOptions = Object.freeze({
  windows: Object.freeze([ALERT_WINDOW, '5m']),
  alertWindow: ALERT_WINDOW,
  shareFloor: 1e-4,
  defaultJensenShannonThreshold: 0.1,
  alerts: ALERT_DEFINITIONS,
  apiJob: 'churnwatch-api',
  monitorJob: 'churnwatch-monitor',
  pushgatewayJob: 'pushgateway',
  runbookUrl: 'https://github.com/churnwatch/churnwatch/blob/main/docs/runbook.md',
});

/** The HTTP service rules use a fixed short window: they describe the service now, not the data. */
export const HTTP_WINDOW = '5m';
export const LATENCY_QUANTILES = ['0.5', '0.95', '0.99'] as const;

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: {
    readonly summary: string;
    readonly description: string;
    readonly runbook_url: string;
  };
}

export interface RuleGroup<R> {
  readonly name: string;
  readonly rules: readonly R[];
}

/** Recorded series names, by window. Dashboards use these, so they are exported. */
export const recorded = {
  featureRows: (w: string) => `churnwatch:feature_rows:${w}`,
  featureBinRatio: (w: string) => `churnwatch:feature_bin_ratio:${w}`,
  featureReferenceBinRatio: (w: string) => `churnwatch:feature_reference_bin_ratio:${w}`,
  featureBinRatioNormalized: (w: string) => `churnwatch:feature_bin_ratio_normalized:${w}`,
  featureReferenceBinRatioNormalized: (w: string) => `churnwatch:feature_reference_bin_ratio_normalized:${w}`,
  featurePsi: (w: string) => `churnwatch:feature_psi:${w}`,
  featureJensenShannon: (w: string) => `churnwatch:feature_jensen_shannon:${w}`,
  featureDriftScore: (w: string) => `churnwatch:feature_drift_score:${w}`,
  featureDriftThreshold: (w: string) => `churnwatch:feature_drift_threshold:${w}`,
  featureDriftStatus: (w: string) => `churnwatch:feature_drift_status:${w}`,
  featureMissingRatio: (w: string) => `churnwatch:feature_missing_ratio:${w}`,
  featureOutOfRangeRatio: (w: string) => `churnwatch:feature_out_of_range_ratio:${w}`,
  featureUnseenRatio: (w: string) => `churnwatch:feature_unseen_ratio:${w}`,
  scoreRows: (w: string) => `churnwatch:score_rows:${w}`,
  scoreBinRatio: (w: string) => `churnwatch:score_bin_ratio:${w}`,
  scoreReferenceBinRatio: (w: string) => `churnwatch:score_reference_bin_ratio:${w}`,
  scoreBinRatioNormalized: (w: string) => `churnwatch:score_bin_ratio_normalized:${w}`,
  scoreReferenceBinRatioNormalized: (w: string) => `churnwatch:score_reference_bin_ratio_normalized:${w}`,
  scorePsi: (w: string) => `churnwatch:score_psi:${w}`,
  scoreJensenShannon: (w: string) => `churnwatch:score_jensen_shannon:${w}`,
  scoreDriftThreshold: (w: string) => `churnwatch:score_drift_threshold:${w}`,
  confusion: (w: string) => `churnwatch:confusion:${w}`,
  confusionRows: (w: string) => `churnwatch:confusion_rows:${w}`,
  modelPerformance: (w: string) => `churnwatch:model_performance:${w}`,
  churnRate: (w: string) => `churnwatch:churn_rate:${w}`,
  labelDelay: (w: string) => `churnwatch:label_delay_seconds:${w}`,
  httpRequestRate: `churnwatch:http_requests:rate${HTTP_WINDOW}`,
  httpErrorRatio: `churnwatch:http_error_ratio:${HTTP_WINDOW}`,
  httpLatency: `churnwatch:http_latency_seconds:${HTTP_WINDOW}`,
  httpRouteLatency: `churnwatch:http_route_latency_seconds:${HTTP_WINDOW}`,
} as const;

/** 2·ln 2: the Jensen-Shannon sum uses natural logs and halves, and PromQL's ln() takes no scalar. */
const TWO_LN_2 = String(2 * Math.LN2);

/**
 * Rules for one binned distribution (a feature's, or the score's) over one window: rows, the
 * current share per bin completed with the reference's bins (a bin with no traffic has share 0, not
 * no series), the reference share completed the other way, their floored and renormalised forms,
 * PSI and the Jensen-Shannon distance. `keys` are the labels that identify one distribution.
 */
function distributionRules(
  w: string,
  keys: readonly string[],
  counter: string,
  reference: string,
  names: {
    rows: string;
    cur: string;
    ref: string;
    curNorm: string;
    refNorm: string;
    psi: string;
    js: string;
  },
  floor: number,
): RecordingRule[] {
  const on = keys.join(', ');
  const onBin = [...keys, 'bin'].join(', ');
  const refShare = oneAcrossReplicas(reference);
  // Only distributions that have traffic in the window and a reference to compare with.
  const live = `(${names.rows} > 0 and on(${on}) ${oneAcrossReplicas(reference, ['bin'])})`;
  const floored = (s: string) => `clamp_min(${s}, ${floor})`;
  const normalized = (s: string) =>
    `${floored(s)}\n/ ignoring(bin) group_left()\nsum without(bin) (${floored(s)})`;
  return [
    { record: names.rows, expr: increaseAcrossReplicas(counter, w, ['bin']) },
    {
      record: names.cur,
      expr: [
        '(',
        `  ${increaseAcrossReplicas(counter, w)}`,
        `  / ignoring(bin) group_left() ${live}`,
        ')',
        `or on(${onBin})`,
        `(0 * ${refShare} and on(${on}) ${live})`,
      ].join('\n'),
    },
    {
      record: names.ref,
      expr: [`(${refShare} and on(${on}) ${live})`, `or on(${onBin})`, `(0 * ${names.cur})`].join('\n'),
    },
    { record: names.curNorm, expr: normalized(names.cur) },
    { record: names.refNorm, expr: normalized(names.ref) },
    {
      record: names.psi,
      expr: [
        'sum without(bin) (',
        `  (${floored(names.cur)} - on(${onBin}) ${floored(names.ref)})`,
        `  * on(${onBin})`,
        `  ln(${floored(names.cur)} / on(${onBin}) ${floored(names.ref)})`,
        ')',
      ].join('\n'),
    },
    {
      record: names.js,
      expr: [
        'sqrt(clamp_min(',
        '  sum without(bin) (',
        `      ${names.curNorm} * on(${onBin}) ln(2 * ${names.curNorm} / on(${onBin}) (${names.curNorm} + on(${onBin}) ${names.refNorm}))`,
        `    + on(${onBin})`,
        `      ${names.refNorm} * on(${onBin}) ln(2 * ${names.refNorm} / on(${onBin}) (${names.refNorm} + on(${onBin}) ${names.curNorm}))`,
        `  ) / ${TWO_LN_2},`,
        '  0',
        '))',
      ].join('\n'),
    },
  ];
}

type ThresholdMethod = 'psi' | 'jensen_shannon';

/**
 * A drift threshold for the rules' window, in order of preference:
 *
 * 1. the calibrated one from the model artifact, which every API replica exports, scaled to the window's
 *    rows as the drift policy scales it (drift-policy.ts `thresholdsForRows`: PSI × v(n)/v(N) with
 *    v(x) = 1/x + 1/R, Jensen-Shannon × its square root, never below the calibrated value), so the
 *    rules and the monitor judge one window alike and neither needs the other;
 * 2. the monitor role's churnwatch_drift_threshold (replicas too old to export the calibration);
 * 3. the generic constant, only where no calibrated threshold exists at all.
 *
 * `score` selects the prediction score's threshold (labels model_version), else the features' (model_version, feature).
 */
function thresholdRule(
  record: string,
  method: ThresholdMethod,
  rows: string,
  statistic: string,
  fallback: number,
  score: boolean,
): RecordingRule {
  const feature = score ? 'score' : '!score';
  const on = score ? 'model_version' : 'model_version, feature';
  const strip = score ? ['feature'] : [];
  const calibrated = oneAcrossReplicas(selector(metric('driftCalibratedThreshold'), { method, feature }), [
    'method',
    ...strip,
  ]);
  const reference = oneAcrossReplicas(selector(metric('featureReferenceRows'), { feature }), strip);
  const calibratedRows = oneAcrossReplicas(metric('driftCalibrationWindowRows'));
  const spreadNow = `(1 / (${rows} > 0) + on(${on}) (1 / ${reference}))`;
  const spreadCalibrated = `(1 / ${reference} + on(model_version) group_left() (1 / ${calibratedRows}))`;
  const ratio = `clamp_min(${spreadNow} / on(${on}) ${spreadCalibrated}, 1)`;
  return {
    record,
    labels: { method },
    expr: [
      `${calibrated} * on(${on}) ${method === 'psi' ? ratio : `sqrt(${ratio})`}`,
      `or on(${on})`,
      oneAcrossReplicas(selector(metric('driftThreshold'), { method, feature }), ['method', ...strip]),
      `or on(${on})`,
      `(0 * ${statistic} + ${fallback})`,
    ].join('\n'),
  };
}

function featureDriftRules(w: string, o: RuleOptions): RecordingRule[] {
  const r = recorded;
  const thresholds = (method: ThresholdMethod, fallback: number, statistic: string): RecordingRule =>
    thresholdRule(r.featureDriftThreshold(w), method, r.featureRows(w), statistic, fallback, false);
  const binShare = (bins: string) => `sum without(bin) (${selector(r.featureBinRatio(w), { bin: bins })})`;
  return [
    ...distributionRules(
      w,
      ['model_version', 'feature'],
      metric('featureValues'),
      metric('featureReferenceShare'),
      {
        rows: r.featureRows(w),
        cur: r.featureBinRatio(w),
        ref: r.featureReferenceBinRatio(w),
        curNorm: r.featureBinRatioNormalized(w),
        refNorm: r.featureReferenceBinRatioNormalized(w),
        psi: r.featurePsi(w),
        js: r.featureJensenShannon(w),
      },
      o.shareFloor,
    ),
    { record: r.featureDriftScore(w), labels: { method: 'psi' }, expr: r.featurePsi(w) },
    { record: r.featureDriftScore(w), labels: { method: 'jensen_shannon' }, expr: r.featureJensenShannon(w) },
    thresholds('psi', o.alerts.featureDrift.params.defaultPsiThreshold, r.featurePsi(w)),
    thresholds('jensen_shannon', o.defaultJensenShannonThreshold, r.featureJensenShannon(w)),
    {
      record: r.featureDriftStatus(w),
      expr: `${r.featureDriftScore(w)} > bool on(model_version, feature, method) ${r.featureDriftThreshold(w)}`,
    },
    { record: r.featureMissingRatio(w), expr: binShare('missing') },
    { record: r.featureOutOfRangeRatio(w), expr: binShare('~below|above') },
    { record: r.featureUnseenRatio(w), expr: binShare('unseen') },
  ];
}

function scoreDriftRules(w: string, o: RuleOptions): RecordingRule[] {
  const r = recorded;
  const thresholds = (method: ThresholdMethod, fallback: number, statistic: string): RecordingRule =>
    thresholdRule(r.scoreDriftThreshold(w), method, r.scoreRows(w), statistic, fallback, true);
  return [
    ...distributionRules(
      w,
      ['model_version'],
      metric('scoreValues'),
      metric('scoreReferenceShare'),
      {
        rows: r.scoreRows(w),
        cur: r.scoreBinRatio(w),
        ref: r.scoreReferenceBinRatio(w),
        curNorm: r.scoreBinRatioNormalized(w),
        refNorm: r.scoreReferenceBinRatioNormalized(w),
        psi: r.scorePsi(w),
        js: r.scoreJensenShannon(w),
      },
      o.shareFloor,
    ),
    thresholds('psi', o.alerts.predictionDrift.params.defaultPsiThreshold, r.scorePsi(w)),
    thresholds('jensen_shannon', o.defaultJensenShannonThreshold, r.scoreJensenShannon(w)),
  ];
}

function performanceRules(w: string): RecordingRule[] {
  const r = recorded;
  const c = r.confusion(w);
  const rows = r.confusionRows(w);
  // A count of some outcomes, 0 (not absent) when none of them has happened yet.
  const count = (outcomes: string) =>
    `(sum without(outcome) (${selector(c, { outcome: outcomes })}) or 0 * ${rows})`;
  const ratio = (numerator: string, denominator: string) => `${numerator}\n/ (${denominator} > 0)`;
  const predictions = metric('predictions');
  return [
    { record: c, labels: { kind: 'realized' }, expr: increaseAcrossReplicas(metric('realizedConfusion'), w) },
    {
      record: c,
      labels: { kind: 'estimated' },
      expr: increaseAcrossReplicas(metric('expectedConfusion'), w),
    },
    { record: rows, expr: `sum without(outcome) (${c})` },
    { record: r.modelPerformance(w), labels: { metric: 'accuracy' }, expr: ratio(count('~tp|tn'), rows) },
    {
      record: r.modelPerformance(w),
      labels: { metric: 'precision' },
      expr: ratio(count('tp'), count('~tp|fp')),
    },
    {
      record: r.modelPerformance(w),
      labels: { metric: 'recall' },
      expr: ratio(count('tp'), count('~tp|fn')),
    },
    {
      record: r.modelPerformance(w),
      labels: { metric: 'f1' },
      expr: ratio(`2 * ${count('tp')}`, `(2 * ${count('tp')} + ${count('~fp|fn')})`),
    },
    {
      // The negative class's recall (NannyML's specificity): how many who stayed were called staying.
      record: r.modelPerformance(w),
      labels: { metric: 'specificity' },
      expr: ratio(count('tn'), count('~tn|fp')),
    },
    {
      record: r.churnRate(w),
      labels: { kind: 'predicted' },
      expr: ratio(
        `(${increaseAcrossReplicas(selector(predictions, { predicted_class: '1' }), w, ['predicted_class'])} or 0 * ${increaseAcrossReplicas(predictions, w, ['predicted_class'])})`,
        increaseAcrossReplicas(predictions, w, ['predicted_class']),
      ),
    },
    {
      record: r.churnRate(w),
      labels: { kind: 'actual' },
      expr: ratio(count('~tp|fn'), selector(rows, { kind: 'realized' })),
    },
    {
      record: r.churnRate(w),
      labels: { kind: 'expected' },
      expr: ratio(count('~tp|fn'), selector(rows, { kind: 'estimated' })),
    },
    ...['0.5', '0.9'].map((q) => ({
      record: r.labelDelay(w),
      labels: { quantile: q },
      expr: `histogram_quantile(${q}, sum without(${REPLICA_LABELS}) (rate(${metric('labelDelay', '_bucket')}[${w}])))`,
    })),
  ];
}

function httpRules(): RecordingRule[] {
  const r = recorded;
  const requests = metric('httpRequests');
  const rate = (s: string) => `sum(rate(${s}[${HTTP_WINDOW}]))`;
  const bucket = metric('httpRequestDuration', '_bucket');
  return [
    {
      record: r.httpRequestRate,
      expr: `sum without(${REPLICA_LABELS}) (rate(${requests}[${HTTP_WINDOW}]))`,
    },
    {
      record: r.httpErrorRatio,
      expr: `(${rate(selector(requests, { status_code: '~5..' }))} or 0 * ${rate(requests)})\n/ (${rate(requests)} > 0)`,
    },
    ...LATENCY_QUANTILES.map((q) => ({
      record: r.httpLatency,
      labels: { quantile: q },
      expr: `histogram_quantile(${q}, sum by(le) (rate(${bucket}[${HTTP_WINDOW}])))`,
    })),
    ...LATENCY_QUANTILES.map((q) => ({
      record: r.httpRouteLatency,
      labels: { quantile: q },
      expr: `histogram_quantile(${q}, sum by(le, route) (rate(${bucket}[${HTTP_WINDOW}])))`,
    })),
  ];
}

export function recordingRuleGroups(options: RuleOptions = DEFAULT_RULE_OPTIONS): RuleGroup<RecordingRule>[] {
  const groups: RuleGroup<RecordingRule>[] = [];
  // One group per window: rules in a group run in order, so later rules read earlier ones at the same instant.
  for (const w of options.windows) {
    groups.push({ name: `churnwatch-feature-drift-${w}`, rules: featureDriftRules(w, options) });
    groups.push({ name: `churnwatch-prediction-drift-${w}`, rules: scoreDriftRules(w, options) });
    groups.push({ name: `churnwatch-performance-${w}`, rules: performanceRules(w) });
  }
  groups.push({ name: 'churnwatch-http', rules: httpRules() });
  return groups;
}

function percent(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

export function alertingRuleGroups(options: RuleOptions = DEFAULT_RULE_OPTIONS): RuleGroup<AlertingRule>[] {
  const o = options;
  const a = o.alerts;
  const w = o.alertWindow;
  const r = recorded;
  /** One rule from its definition: the expression and description are PromQL's, the rest is the definition's. */
  const rule = (
    d: AlertDefinition<Readonly<Record<string, number | string>>>,
    expr: string,
    description: string,
  ): AlertingRule => ({
    alert: d.name,
    expr,
    for: d.for,
    labels: { severity: d.severity },
    annotations: {
      summary: d.summary,
      description,
      runbook_url: `${o.runbookUrl}#${d.name.toLowerCase()}`,
    },
  });
  const validation = oneAcrossReplicas(selector(metric('modelValidation'), { metric: '~accuracy|f1' }));
  const performanceLow = (kind: 'realized' | 'estimated', margin: number, minRows: number) =>
    [
      `${selector(r.modelPerformance(w), { kind, metric: '~accuracy|f1' })}`,
      `< on(model_version, metric) (${validation} - ${margin})`,
      `and on(model_version) ${selector(r.confusionRows(w), { kind })} >= ${minRows}`,
    ].join('\n');
  const { featureDrift, predictionDrift, realizedPerformanceLow, estimatedPerformanceLow } = a;
  const { labelsNotArriving, feedbackPendingGrowing, missingValueSpike } = a;
  const labelsWithin = labelsNotArriving.params.labelsExpectedWithin;
  const rules: AlertingRule[] = [
    rule(
      featureDrift,
      [
        `(${selector(r.featureDriftScore(w), { method: 'psi' })} > on(model_version, feature, method) ${r.featureDriftThreshold(w)})`,
        `and on(model_version, feature) ${r.featureRows(w)} >= ${featureDrift.params.minWindowRows}`,
      ].join('\n'),
      `The PSI of feature {{ $labels.feature }} over the last ${w} is {{ $value | printf "%.3f" }} against the training reference of model {{ $labels.model_version }}, above its threshold (calibrated in the model artifact, or ${featureDrift.params.defaultPsiThreshold} when the model has none).`,
    ),
    rule(
      predictionDrift,
      [
        `${r.scorePsi(w)} > on(model_version) ${selector(r.scoreDriftThreshold(w), { method: 'psi' })}`,
        `and on(model_version) ${r.scoreRows(w)} >= ${predictionDrift.params.minWindowRows}`,
      ].join('\n'),
      `The PSI of the served churn scores over the last ${w} is {{ $value | printf "%.3f" }} against the training scores of model {{ $labels.model_version }}, above its threshold (calibrated in the model artifact, or ${predictionDrift.params.defaultPsiThreshold} when the model has none).`,
    ),
    rule(
      realizedPerformanceLow,
      performanceLow(
        'realized',
        realizedPerformanceLow.params.margin,
        realizedPerformanceLow.params.minLabeledRows,
      ),
      `From the labels joined over the last ${w}, the {{ $labels.metric }} of model {{ $labels.model_version }} is {{ $value | printf "%.3f" }}, more than ${realizedPerformanceLow.params.margin} below its validation value at training time.`,
    ),
    rule(
      estimatedPerformanceLow,
      performanceLow(
        'estimated',
        estimatedPerformanceLow.params.margin,
        estimatedPerformanceLow.params.minWindowRows,
      ),
      `Estimated from calibrated scores (CBPE) over the last ${w}, the {{ $labels.metric }} of model {{ $labels.model_version }} is {{ $value | printf "%.3f" }}, more than ${estimatedPerformanceLow.params.margin} below its validation value. No labels are needed for this estimate; it assumes the relation between features and churn has not changed.`,
    ),
    rule(
      labelsNotArriving,
      [
        `sum(increase(${metric('predictions')}[${w}])) > 0`,
        `unless sum(increase(${selector(metric('feedback'), { status: 'joined' })}[${labelsWithin}])) > 0`,
      ].join('\n'),
      `{{ $value | printf "%.0f" }} predictions were served over the last ${w}, but no feedback joined a prediction over the last ${labelsWithin}: realized performance cannot be measured.`,
    ),
    rule(
      feedbackPendingGrowing,
      [
        `${oneAcrossReplicas(metric('feedbackPending'))} > ${feedbackPendingGrowing.params.pendingMax}`,
        `and ${oneAcrossReplicas(`delta(${metric('feedbackPending')}[${w}])`)} > 0`,
      ].join('\n'),
      `{{ $value | printf "%.0f" }} feedback items are stored but not joined to a prediction, and the number grew over the last ${w}.`,
    ),
    rule(
      missingValueSpike,
      [
        `${r.featureMissingRatio(w)}`,
        `> on(model_version, feature) (${oneAcrossReplicas(selector(metric('featureReferenceShare'), { bin: 'missing' }), ['bin'])} + ${missingValueSpike.params.margin})`,
        `and on(model_version, feature) ${r.featureRows(w)} >= ${missingValueSpike.params.minWindowRows}`,
      ].join('\n'),
      `{{ $value | humanizePercentage }} of the values of feature {{ $labels.feature }} were missing over the last ${w}, more than ${percent(missingValueSpike.params.margin)} above their share in the training data of model {{ $labels.model_version }}.`,
    ),
    rule(
      a.highErrorRatio,
      `${r.httpErrorRatio} > ${a.highErrorRatio.params.errorRatioMax}`,
      `{{ $value | humanizePercentage }} of the API requests over the last ${HTTP_WINDOW} answered 5xx (the limit is ${percent(a.highErrorRatio.params.errorRatioMax)}).`,
    ),
    rule(
      a.highLatency,
      // /metrics is left out: its latency is the scrape's (the monitor computes at scrape time), which
      // Prometheus measures itself as scrape_duration_seconds; this alert is about the API's clients.
      `${selector(r.httpRouteLatency, { quantile: '0.99', route: '!/metrics' })} > ${a.highLatency.params.p99MaxSeconds}`,
      `The 99th percentile latency of route {{ $labels.route }} over the last ${HTTP_WINDOW} is {{ $value | humanizeDuration }} (the limit is ${a.highLatency.params.p99MaxSeconds}s).`,
    ),
    rule(
      a.apiDown,
      `up{job="${o.apiJob}"} == 0\nor absent(up{job="${o.apiJob}"})`,
      'Prometheus {{ with $labels.instance }}cannot scrape the churnwatch API at {{ . }}{{ else }}finds no churnwatch API target at all{{ end }}: no predictions are served or monitored from it.',
    ),
    rule(
      a.monitorDown,
      // With DNS or Kubernetes discovery a stopped monitor leaves no target, so `up` vanishes rather than
      // reading 0; absent() counts then, unless every replica monitors in-process (a single-process stack).
      [
        `up{job="${o.monitorJob}"} == 0`,
        'or on() (',
        `  absent(up{job="${o.monitorJob}"})`,
        `  and on() count(up{job="${o.apiJob}"} == 1 unless on(instance) ${selector(metric('monitorInProcess'), { job: o.apiJob })} == 1) > 0`,
        ')',
      ].join('\n'),
      `Prometheus cannot scrape the monitor role (job ${o.monitorJob}, \`churnwatch monitor serve\`) while API replicas run without the in-process monitor: the monitor gauges (window drift verdicts, p-values, window performance) are gone. The drift rules keep the calibrated thresholds every replica exports.`,
    ),
    rule(
      a.monitorStale,
      `time() - ${metric('monitorLastPoll')} > ${a.monitorStale.params.maxAgeSeconds}`,
      `The monitor role at {{ $labels.instance }} last read the prediction store {{ $value | humanizeDuration }} ago (the limit is ${a.monitorStale.params.maxAgeSeconds}s): its window and gauges no longer follow the predictions. Check its log and the store.`,
    ),
    rule(
      a.retentionBehind,
      // The retention gauge exists only with --retention; without it the rule has nothing to compare.
      `(time() - max without(store) (${metric('storeOldestPrediction')})) - on(instance, job) ${metric('storeRetention')} > ${a.retentionBehind.params.slackSeconds}`,
      `The oldest prediction in the store of {{ $labels.instance }} is {{ $value | humanizeDuration }} older than the retention span allows (the slack is ${a.retentionBehind.params.slackSeconds / 3600} h): old predictions are not being deleted, and the store grows. Check the log for retention errors and churnwatch_store_retention_deleted_total.`,
    ),
    rule(
      a.pushgatewayDown,
      `up{job="${o.pushgatewayJob}"} == 0`,
      'Prometheus cannot scrape the Pushgateway at {{ $labels.instance }}: training metrics (class balance, reference histograms, validation metrics) are not visible.',
    ),
    rule(
      a.trainingMetricsStale,
      `time() - max(${metric('trainingLastSuccess')}) > ${a.trainingMetricsStale.params.maxAgeSeconds}`,
      `The newest churnwatch_training_last_success_timestamp_seconds on the Pushgateway is {{ $value | humanizeDuration }} old (the limit is ${a.trainingMetricsStale.params.maxAgeSeconds / 86400} days): retrain, or check that training pushes its metrics.`,
    ),
  ];
  return [{ name: 'churnwatch-alerts', rules }];
}

/** Every alert name, for the runbook and the promtool tests. */
export function alertNames(options: RuleOptions = DEFAULT_RULE_OPTIONS): string[] {
  return alertingRuleGroups(options).flatMap((g) => g.rules.map((rule) => rule.alert));
}
