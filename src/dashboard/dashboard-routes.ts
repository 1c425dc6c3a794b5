/**
 * The built-in dashboard, for users without Grafana: GET /dashboard (one static page), GET
 * /dashboard/data.json?range=auto (dashboard-data.ts; `auto`, the default, fits the range to the data), and the page's assets, uPlot included, served from
 * the package itself so the page works offline. Mounted by the app (server/build-app.ts), which passes
 * what it reads as options (`DashboardSource`): the dashboard knows nothing of the server's context.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { sendError } from '../http/error-reply.js';
import type { ChurnModel } from '../model/churn-model.js';
import { AlertHold } from '../monitor/alert-evaluation.js';
import type { WindowAnalysis } from '../monitor/window-analysis.js';
import type { PredictionWindow } from '../monitor/windows.js';
import type { FeedbackCounts, PredictionColumns, PredictionQuery } from '../store/prediction-store.js';
import {
  buildDashboardData,
  DASHBOARD_RANGES,
  type DashboardData,
  DEFAULT_RANGE,
  RANGE_NAMES,
  resolveRange,
} from './dashboard-data.js';

/** What the dashboard needs from the in-process monitor (monitor/live-monitor.ts provides it). */
export interface DashboardMonitor {
  analyze(): Promise<WindowAnalysis | undefined>;
  currentWindow(): PredictionWindow | undefined;
  /** When a label last joined one of its predictions (ms), for the labels-not-arriving alert. */
  lastLabelAt?(): number | undefined;
}

/** What the dashboard reads from the app that mounts it. */
export interface DashboardSource {
  /** The model served now (read once per answer). */
  currentModel(): ChurnModel | undefined;
  readonly clock: () => number;
  /** Writes the predictions acknowledged so far, so that the page shows them. */
  flush(): Promise<void>;
  readColumns(query: PredictionQuery): Promise<PredictionColumns>;
  countFeedback(): Promise<FeedbackCounts>;
  /** The in-process monitor, when one runs. */
  readonly monitor?: DashboardMonitor | undefined;
}

export interface DashboardOptions {
  readonly source: DashboardSource;
  /** How long one data.json answer is reused, in ms (default 2000). */
  readonly cacheMs?: number;
  /** Most stored predictions read for the history (the newest ones; default 200,000). */
  readonly maxRows?: number;
  /** Labels are due this long after their prediction (ms); default: the observed p90 label delay. */
  readonly expectedLabelDelayMs?: number;
  /** The store's retention span (ms; undefined keeps everything): `auto` never starts before it. */
  readonly retentionMs?: number | undefined;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The page's own files; from a compiled dist/ they are looked up in the package's src/ copy. */
const STATIC_DIRS = [join(here, 'static')];

const require = createRequire(import.meta.url);
const UPLOT_DIR = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

const ASSETS: Readonly<Record<string, { file: string; type: string; uplot?: boolean }>> = {
  'dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: 'uPlot.iife.min.js', type: 'text/javascript; charset=utf-8', uplot: true },
  'uPlot.min.css': { file: 'uPlot.min.css', type: 'text/css; charset=utf-8', uplot: true },
};

async function readStatic(name: string): Promise<Buffer> {
  let lastError: unknown;
  for (const dir of STATIC_DIRS) {
    try {
      return await readFile(join(dir, name));
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** The observer as a DashboardMonitor when it is one (the live monitor is), else undefined. */
export function asDashboardMonitor(o: unknown): DashboardMonitor | undefined {
  const m = o as Partial<DashboardMonitor> | undefined;
  return typeof m?.analyze === 'function' && typeof m.currentWindow === 'function'
    ? (m as DashboardMonitor)
    : undefined;
}

export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, options) => {
  const files = new Map<string, Buffer>();
  const asset = async (name: string): Promise<Buffer> => {
    let body = files.get(name);
    if (!body) {
      const spec = ASSETS[name];
      body = spec?.uplot ? await readFile(join(UPLOT_DIR, spec.file)) : await readStatic(spec?.file ?? name);
      files.set(name, body);
    }
    return body;
  };
  const source = options.source;
  // The alerts' pending time (their `for`) carries over from one answer to the next.
  const alertHold = new AlertHold();
  const cacheMs = options.cacheMs ?? 2000;
  const maxRows = options.maxRows ?? 200_000;
  const cache = new Map<string, { at: number; version: string; value: Promise<DashboardData | undefined> }>();

  const largestRangeMs = Math.max(...Object.values(DASHBOARD_RANGES));
  // The oldest stored prediction per model version (for the auto range), found once: the oldest of the
  // newest maxRows within the largest preset, i.e. the oldest one the page can show.
  const firstPrediction = new Map<string, number>();
  const firstPredictionAt = async (version: string, now: number): Promise<number | undefined> => {
    // Retention deletes what is older than its span, so the first prediction found once moves with it.
    const kept = (first: number | undefined) =>
      first === undefined || options.retentionMs === undefined
        ? first
        : Math.max(first, now - options.retentionMs);
    const known = firstPrediction.get(version);
    if (known !== undefined) return kept(known);
    const columns = await source.readColumns({
      from: now - largestRangeMs,
      modelVersion: version,
      limit: maxRows,
    });
    const first = columns.rowCount > 0 ? columns.createdAt[0] : undefined;
    if (first !== undefined) firstPrediction.set(version, first);
    return kept(first);
  };

  const compute = async (rangeName: string): Promise<DashboardData | undefined> => {
    const model = source.currentModel();
    if (!model) return undefined;
    const now = source.clock();
    const monitor = source.monitor;
    let live: { data: ReturnType<PredictionWindow['snapshot']>; analysis: WindowAnalysis } | undefined;
    if (monitor) {
      const window = monitor.currentWindow();
      const analysis = await monitor.analyze();
      if (window && analysis && window.modelVersion === model.info.version)
        live = { data: window.snapshot(now), analysis };
    }
    // Acknowledged predictions reach the log within the flush interval; flush so the page shows them.
    await source.flush();
    const first = DASHBOARD_RANGES[rangeName] ? undefined : await firstPredictionAt(model.info.version, now);
    const range = resolveRange(rangeName, now, first);
    const [columns, feedback] = await Promise.all([
      source.readColumns({ from: range.fromMs, modelVersion: model.info.version, limit: maxRows }),
      source.countFeedback(),
    ]);
    return buildDashboardData({
      model,
      columns,
      live,
      feedback,
      rangeName,
      firstPredictionAt: first,
      expectedLabelDelayMs: options.expectedLabelDelayMs,
      now,
      lastLabelAt: monitor?.lastLabelAt?.(),
      alertHold,
    });
  };

  app.get('/dashboard', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(await readStatic('index.html')),
  );

  app.get<{ Params: { name: string } }>(
    '/dashboard/assets/:name',
    { schema: { hide: true } },
    async (request, reply) => {
      const name = request.params.name;
      const spec = ASSETS[name];
      if (!spec) return sendError(reply, 404, 'CW_NOT_FOUND', `no dashboard asset ${name}`);
      return reply
        .type(spec.type)
        .header('cache-control', 'public, max-age=300')
        .send(await asset(name));
    },
  );

  app.get<{ Querystring: { range?: string } }>(
    '/dashboard/data.json',
    {
      schema: {
        description: 'The built-in dashboard data: live window, chunked history, alert states.',
        querystring: {
          type: 'object',
          properties: { range: { type: 'string', enum: [...RANGE_NAMES] } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const rangeName = request.query.range ?? DEFAULT_RANGE;
      const now = source.clock();
      const version = source.currentModel()?.info.version ?? '';
      let entry = cache.get(rangeName);
      if (!entry || now - entry.at >= cacheMs || entry.version !== version) {
        const value = compute(rangeName);
        entry = { at: now, version, value };
        cache.set(rangeName, entry);
        value.catch(() => cache.delete(rangeName));
      }
      const data = await entry.value;
      if (!data) {
        return sendError(reply, 503, 'CW_NO_MODEL', 'no model is loaded yet');
      }
      return reply.header('cache-control', 'no-store').send(data);
    },
  );
};
