/**
 * The monitor's gauges (catalogue.ts, source 'monitor'), registered on an explicit Registry and filled
 * in collect(), i.e. at scrape time, from one window analysis. The in-process monitor and
 * `churnwatch monitor serve` both register these, so dashboards see the same names from either.
 *
 * prom-client collects every metric of a scrape concurrently; `cachedAnalysis` makes them share one
 * computation, reused for `ttlMs` so frequent scrapes (several Prometheus servers) cost one analysis.
 */
import { Gauge, type Registry } from 'prom-client';
import { METRICS, type PERFORMANCE_METRICS } from '../metrics/catalogue.js';
import type { DriftStatisticName } from '../model/reference-profile-types.js';
import type { EstimatedPerformance } from '../stats/cbpe.js';
import type { ClassificationMetrics } from '../stats/classification.js';
import type { FeatureDriftResult } from './drift-policy.js';
import type { WindowAnalysis } from './window-analysis.js';

export type AnalysisSource = () => Promise<WindowAnalysis | undefined>;

/**
 * Wraps a computation so that calls within `ttlMs` of the last one (by `clock`) share its result, and
 * concurrent calls share one run. A failed run is not cached.
 */
export function cachedAnalysis(
  compute: () => Promise<WindowAnalysis | undefined> | WindowAnalysis | undefined,
  ttlMs: number,
  clock: () => number = Date.now,
): AnalysisSource {
  let last: { at: number; value: Promise<WindowAnalysis | undefined> } | undefined;
  return () => {
    const now = clock();
    if (last && now - last.at < ttlMs) return last.value;
    const value = Promise.resolve().then(compute);
    const entry = { at: now, value };
    last = entry;
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}

type PerformanceMetric = (typeof PERFORMANCE_METRICS)[number];
/** The keys of T that hold a number (not the confusion counts). */
type NumberKey<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T];

/** The `metric` label of each realized metric (the catalogue's names) and where the analysis holds it. */
const REALIZED_METRICS: readonly (readonly [PerformanceMetric, NumberKey<ClassificationMetrics>])[] = [
  ['accuracy', 'accuracy'],
  ['precision', 'precision'],
  ['recall', 'recall'],
  ['f1', 'f1'],
  ['specificity', 'specificity'],
  ['roc_auc', 'rocAuc'],
  ['log_loss', 'logLoss'],
  ['brier', 'brier'],
  ['average_precision', 'averagePrecision'],
];

/** CBPE estimates the threshold metrics and ROC AUC (NannyML's set), not the score-based losses. */
const ESTIMATED_METRICS: readonly (readonly [PerformanceMetric, NumberKey<EstimatedPerformance>])[] = [
  ['accuracy', 'accuracy'],
  ['precision', 'precision'],
  ['recall', 'recall'],
  ['f1', 'f1'],
  ['specificity', 'specificity'],
  ['roc_auc', 'rocAuc'],
];

function finite(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/** Registers the monitor gauges; each fills itself from `source()` at scrape time. */
export function registerMonitorGauges(registry: Registry, source: AnalysisSource): void {
  const gauge = (
    spec: { name: string; help: string; labelNames: readonly string[] },
    fill: (g: Gauge<string>, a: WindowAnalysis) => void,
  ) => {
    // The analysis the gauge holds now. Scrapes that share one (within the source's cache time) find
    // the gauge already filled: refilling it made a new label object per series, so each such scrape
    // formatted and allocated every label set again (hundreds of KiB, scavenges in scrapes).
    let shown: WindowAnalysis | undefined;
    return new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      registers: [registry],
      async collect() {
        const analysis = await source();
        if (analysis !== undefined && analysis === shown) return;
        shown = analysis;
        // Point-in-time: a series that no longer applies (feature without verdict, other model) goes away.
        this.reset();
        if (analysis) fill(this, analysis);
      },
    });
  };

  const driftResults = (a: WindowAnalysis): FeatureDriftResult[] =>
    a.drift.score ? [...a.drift.features, a.drift.score] : a.drift.features;

  gauge(METRICS.driftScore, (g, a) => {
    for (const r of driftResults(a))
      for (const [method, value] of Object.entries(r.scores) as [DriftStatisticName, number][])
        if (finite(value)) g.set({ model_version: a.modelVersion, feature: r.feature, method }, value);
  });
  gauge(METRICS.driftPValue, (g, a) => {
    for (const r of driftResults(a))
      for (const [method, value] of Object.entries(r.pValues) as [DriftStatisticName, number][])
        if (finite(value)) g.set({ model_version: a.modelVersion, feature: r.feature, method }, value);
  });
  gauge(METRICS.driftThreshold, (g, a) => {
    for (const r of driftResults(a))
      for (const [method, value] of Object.entries(r.thresholds) as [DriftStatisticName, number][])
        if (finite(value)) g.set({ model_version: a.modelVersion, feature: r.feature, method }, value);
  });
  gauge(METRICS.driftDetected, (g, a) => {
    for (const r of driftResults(a))
      if (r.drifted !== null)
        g.set({ model_version: a.modelVersion, feature: r.feature, method: r.method }, r.drifted ? 1 : 0);
  });
  gauge(METRICS.datasetDriftShare, (g, a) => {
    if (a.drift.judged > 0) g.set({ model_version: a.modelVersion }, a.drift.driftShare);
  });
  gauge(METRICS.windowRows, (g, a) => {
    g.set({ model_version: a.modelVersion, kind: 'predictions' }, a.rows);
    g.set({ model_version: a.modelVersion, kind: 'labeled' }, a.labeled);
  });
  gauge(METRICS.windowPerformance, (g, a) => {
    const mv = a.modelVersion;
    if (a.realized) {
      for (const [metric, key] of REALIZED_METRICS) {
        const value = a.realized[key];
        if (finite(value)) g.set({ model_version: mv, metric, kind: 'realized' }, value);
      }
    }
    if (a.estimated) {
      for (const [metric, key] of ESTIMATED_METRICS) {
        const value = a.estimated[key];
        if (finite(value)) g.set({ model_version: mv, metric, kind: 'estimated' }, value);
      }
    }
  });
  gauge(METRICS.labelCoverage, (g, a) => {
    if (a.rows > 0) g.set({ model_version: a.modelVersion }, a.labelCoverage);
  });
  gauge(METRICS.featureMissingShare, (g, a) => {
    for (const q of a.quality) {
      if (q.rows > 0)
        g.set({ model_version: a.modelVersion, feature: q.feature, kind: 'current' }, q.missingShare);
      g.set(
        { model_version: a.modelVersion, feature: q.feature, kind: 'reference' },
        q.referenceMissingShare,
      );
    }
  });
}
