/**
 * The in-process monitor: the server hands it every acknowledged prediction and every joined label
 * (the PredictionObserver seam), it keeps them in a sliding window (windows.ts) and exports the monitor
 * gauges computed at scrape time. The hot path only appends to typed arrays.
 *
 * One window per model: predictions of another model version than the one served now are ignored, and a
 * reload starts a fresh window (the reference bins belong to the model).
 */
import { Gauge, type Registry } from 'prom-client';
import { METRICS } from '../metrics/catalogue.js';
import type { ChurnModel } from '../model/churn-model.js';
import type { RecordBins } from '../model/record-binner.js';
import type { FeedbackOutcome } from '../store/prediction-store.js';
import { DEFAULT_DRIFT_POLICY, type DriftPolicyOptions } from './drift-policy.js';
import { type AnalysisSource, cachedAnalysis, registerMonitorGauges } from './monitor-gauges.js';
import type { ObservedPrediction, PredictionObserver } from './prediction-observer.js';
import { analyzeWindow, type WindowAnalysis } from './window-analysis.js';
import { PredictionWindow, type WindowOptions } from './windows.js';

export interface LiveMonitorOptions {
  /** Window size and age (defaults in windows.ts: the profile's calibrated window size, no age limit). */
  readonly window?: Partial<WindowOptions>;
  readonly policy?: Readonly<DriftPolicyOptions>;
  /** How long one analysis serves scrapes, in ms (default 1000). */
  readonly cacheMs?: number;
  readonly clock?: () => number;
  /** The model served now; registerMetrics() supplies the server's when this is not given. */
  readonly getModel?: () => ChurnModel | undefined;
}

export interface LiveMonitor extends PredictionObserver {
  /** The current window's analysis (cached like the gauges); undefined before the first prediction. */
  analyze(): Promise<WindowAnalysis | undefined>;
  /** The current window, for inspection. */
  currentWindow(): PredictionWindow | undefined;
  /** When a label last joined one of this process's predictions (ms); undefined before the first. */
  lastLabelAt(): number | undefined;
}

export function createLiveMonitor(options: LiveMonitorOptions = {}): LiveMonitor {
  const clock = options.clock ?? Date.now;
  const policy = options.policy ?? DEFAULT_DRIFT_POLICY;
  let getModel = options.getModel;
  let window: PredictionWindow | undefined;
  let windowModel: ChurnModel | undefined;
  let lastLabelAt: number | undefined;

  const windowFor = (model: ChurnModel): PredictionWindow => {
    if (!window || windowModel !== model) {
      window = new PredictionWindow(model.profile, model.info.version, options.window);
      windowModel = model;
    }
    return window;
  };

  const analyze: AnalysisSource = cachedAnalysis(
    () => {
      const model = windowModel;
      if (!window || !model) return undefined;
      return analyzeWindow(
        { version: model.info.version, threshold: model.info.threshold, profile: model.profile },
        window.snapshot(clock()),
        policy,
      );
    },
    options.cacheMs ?? 1000,
    clock,
  );

  return {
    observePredictions(records: readonly ObservedPrediction[], bins?: RecordBins) {
      const model = getModel?.();
      if (!model) return;
      const w = windowFor(model);
      const version = model.info.version;
      // The server's own predictions, each new: appended without a lookup by id, with the bins the
      // server computed for its counters when they are of this window's profile, else binned here.
      const own = bins !== undefined && w.accepts(bins) ? bins : w.binsOf(records, bins);
      if (records.every((r) => r.modelVersion === version)) w.appendBinnedRows(records, own);
      else
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!;
          if (r.modelVersion === version) w.appendBinned(r, own, i);
        }
      if (w.options.maxAgeMs !== undefined) w.expire(clock());
    },
    observeFeedback(outcomes: readonly FeedbackOutcome[]) {
      if (outcomes.some((o) => o.status === 'joined')) lastLabelAt = clock();
      const w = window;
      if (!w) return;
      for (const o of outcomes) {
        if (o.status !== 'joined' || !o.prediction) continue;
        w.setLabel(o.prediction.id, o.label, o.labelDelayMs);
      }
    },
    registerMetrics(registry: Registry, serverGetModel: () => ChurnModel | undefined) {
      getModel ??= serverGetModel;
      registerMonitorGauges(registry, analyze);
      // Tells the rules that no separate monitor role is needed for this replica (ChurnwatchMonitorDown).
      const spec = METRICS.monitorInProcess;
      new Gauge({ name: spec.name, help: spec.help, registers: [registry] }).set(1);
    },
    analyze,
    currentWindow: () => window,
    lastLabelAt: () => lastLabelAt,
  };
}
