/**
 * The HTTP face of `churnwatch monitor serve`: /metrics with the same monitor gauges the in-process
 * monitor exports (so dashboards and rules do not care which one runs), /healthz, and /window with the
 * current analysis as JSON. Built, never listening: the command and the tests decide how to run it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { METRICS } from '../metrics/catalogue.js';
import { renderExposition } from '../metrics/exposition.js';
import type { ChurnModel } from '../model/churn-model.js';
import { DEFAULT_DRIFT_POLICY, type DriftPolicyOptions } from './drift-policy.js';
import { cachedAnalysis, registerMonitorGauges } from './monitor-gauges.js';
import type { StoreTailer } from './store-tailer.js';
import { analyzeWindow } from './window-analysis.js';

export interface MonitorAppOptions {
  readonly tailer: StoreTailer;
  readonly model: ChurnModel;
  readonly registry?: Registry;
  readonly policy?: Readonly<DriftPolicyOptions>;
  readonly cacheMs?: number;
  readonly clock?: () => number;
  /** prom-client's process metrics (default true). */
  readonly defaultMetrics?: boolean;
}

export async function buildMonitorApp(options: MonitorAppOptions): Promise<FastifyInstance> {
  const { tailer, model } = options;
  const clock = options.clock ?? Date.now;
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const analyze = cachedAnalysis(
    () =>
      analyzeWindow(
        { version: model.info.version, threshold: model.info.threshold, profile: model.profile },
        tailer.window.snapshot(clock()),
        options.policy ?? DEFAULT_DRIFT_POLICY,
      ),
    options.cacheMs ?? 1000,
    clock,
  );
  registerMonitorGauges(registry, analyze);
  // Staleness, for ChurnwatchMonitorStale: up == 1 does not say the window still follows the store.
  const lastPoll = METRICS.monitorLastPoll;
  new Gauge({
    name: lastPoll.name,
    help: lastPoll.help,
    registers: [registry],
    collect() {
      if (!Number.isNaN(tailer.lastPollAt)) this.set(tailer.lastPollAt / 1000);
    },
  });

  const app = Fastify({ logger: false });
  app.get('/metrics', async (_request, reply) => {
    const text = await renderExposition(registry);
    return reply.header('content-type', registry.contentType).send(text);
  });
  app.get('/healthz', async () => ({
    status: 'ok',
    modelVersion: model.info.version,
    windowRows: tailer.window.rows,
    lastPollAt: Number.isNaN(tailer.lastPollAt) ? null : new Date(tailer.lastPollAt).toISOString(),
  }));
  app.get('/window', async () => {
    const a = await analyze();
    return a ?? {};
  });
  return app;
}
