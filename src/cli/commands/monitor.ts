/**
 * `churnwatch monitor analyze`: chunked drift, quality and performance over the stored prediction log.
 * `churnwatch monitor serve`: the monitor role for several API replicas on one PostgreSQL store; it tails
 * the store into a sliding window and exports the monitor gauges on its own /metrics.
 */
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ChurnwatchError } from '../../errors.js';
import type { ChurnModel } from '../../model/churn-model.js';
import { loadModel } from '../../model/model-io.js';
import { analyzeChunks, type Chunking, type ChunkSeries, parseDuration } from '../../monitor/chunks.js';
import { buildMonitorApp } from '../../monitor/monitor-server.js';
import { createStoreTailer, type StoreTailer } from '../../monitor/store-tailer.js';
import type { WindowOptions } from '../../monitor/windows.js';
import { DEFAULT_STORE_URL, openStore } from '../../store/open-store.js';
import type { PredictionStore } from '../../store/prediction-store.js';
import { redactUrl } from '../../store/redact-url.js';
import { createCliLogger } from '../logger.js';

export const MONITOR_DEFAULTS = Object.freeze({
  modelPath: 'models/latest',
  storeUrl: DEFAULT_STORE_URL,
  chunk: '1d',
  port: 9100,
  host: '0.0.0.0',
  pollMs: 2000,
});

function badOption(message: string, hint: string): ChurnwatchError {
  return new ChurnwatchError('CW_MONITOR_BAD_OPTION', message, { hint });
}

function pick(flag: string | undefined, env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  const value = env[name];
  return value !== undefined && value !== '' ? value : undefined;
}

async function loadMonitorModel(path: string): Promise<ChurnModel> {
  try {
    return await loadModel(path);
  } catch (error) {
    throw new ChurnwatchError(
      'CW_MONITOR_NO_MODEL',
      `cannot load the model at ${path}: ${(error as Error).message}`,
      {
        hint: 'point --model (or CHURNWATCH_MODEL) at a models/<version> directory or models/latest',
        cause: error,
      },
    );
  }
}

async function openMigrated(url: string): Promise<PredictionStore> {
  const store = openStore(url);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

/** A time bound: ISO 8601 or ms since the epoch. */
function parseTime(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(value))
    throw badOption(
      `${name} must be an ISO 8601 time or ms since the epoch, got "${raw}"`,
      `e.g. ${name} 2026-01-31T00:00:00Z`,
    );
  return value;
}

// ---------------------------------------------------------------------------------------------------
// monitor analyze

export interface MonitorAnalyzeOptions {
  readonly store?: string | undefined;
  readonly model?: string | undefined;
  /** Period such as 1h or 1d (default 1d unless chunkSize is given). */
  readonly chunk?: string | undefined;
  /** Rows per chunk instead of a period. */
  readonly chunkSize?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

export interface MonitorAnalyzeResult {
  readonly series: ChunkSeries;
  /** The table printed without --json. */
  readonly table: string;
}

export function resolveChunking(chunk: string | undefined, chunkSize: string | undefined): Chunking {
  if (chunk !== undefined && chunkSize !== undefined)
    throw badOption(
      'give either --chunk or --chunk-size, not both',
      'use --chunk 1h for time chunks or --chunk-size 5000 for row chunks',
    );
  if (chunkSize !== undefined) {
    const rows = Number(chunkSize);
    if (!/^\d+$/.test(chunkSize) || !Number.isSafeInteger(rows) || rows < 1)
      throw badOption(
        `--chunk-size must be a positive whole number, got "${chunkSize}"`,
        'e.g. --chunk-size 5000',
      );
    return { rows };
  }
  const text = chunk ?? MONITOR_DEFAULTS.chunk;
  const periodMs = parseDuration(text);
  if (periodMs === undefined)
    throw badOption(
      `--chunk must be a duration such as 1h or 1d, got "${text}"`,
      'units: s, m, h, d, w (e.g. --chunk 6h)',
    );
  return { periodMs };
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}`;
}

function num(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3);
}

/** One line per chunk: what a terminal can show. */
export function formatChunkTable(series: ChunkSeries): string {
  const header = [
    'start (UTC)',
    'rows',
    'labeled%',
    'drifted',
    'est acc',
    'est f1',
    'real acc',
    'real f1',
    'alerts',
  ];
  const lines = series.chunks.map((c) => [
    new Date(c.from).toISOString().replace('.000Z', 'Z'),
    String(c.rows),
    pct(c.labelCoverage),
    c.drift
      .filter((d) => d.drifted)
      .map((d) => d.feature)
      .join(',') || '-',
    num(c.estimated?.accuracy),
    num(c.estimated?.f1),
    num(c.realized?.accuracy),
    num(c.realized?.f1),
    String(c.alerts.length),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const chunking = series.chunking.rows
    ? `${series.chunking.rows} rows`
    : `${(series.chunking.periodMs ?? 0) / 1000} s`;
  return [
    `model ${series.modelVersion}, threshold ${series.threshold.toFixed(4)}, ${series.rows} predictions in ${series.chunks.length} chunks of ${chunking}`,
    row(header),
    ...lines.map(row),
  ].join('\n');
}

export async function runMonitorAnalyze(options: MonitorAnalyzeOptions = {}): Promise<MonitorAnalyzeResult> {
  const env = options.env ?? process.env;
  const chunking = resolveChunking(options.chunk, options.chunkSize);
  const from = parseTime('--from', options.from);
  const to = parseTime('--to', options.to);
  const modelPath = pick(options.model, env, 'CHURNWATCH_MODEL') ?? MONITOR_DEFAULTS.modelPath;
  const storeUrl = pick(options.store, env, 'CHURNWATCH_STORE_URL') ?? MONITOR_DEFAULTS.storeUrl;
  const logger = options.logger ?? createCliLogger('churnwatch-monitor');
  const model = await loadMonitorModel(modelPath);
  const store = await openMigrated(storeUrl);
  try {
    const t0 = performance.now();
    const columns = await store.readColumns({
      modelVersion: model.info.version,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    });
    logger.info(
      { rows: columns.rowCount, seconds: (performance.now() - t0) / 1000, store: redactUrl(storeUrl) },
      'read the prediction log',
    );
    const series = analyzeChunks(
      { version: model.info.version, threshold: model.info.threshold, profile: model.profile },
      columns,
      { chunking, validation: { accuracy: model.info.validation.accuracy, f1: model.info.validation.f1 } },
    );
    return { series, table: formatChunkTable(series) };
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// monitor serve

export interface MonitorServeOptions {
  readonly store?: string | undefined;
  readonly model?: string | undefined;
  readonly port?: string | undefined;
  readonly host?: string | undefined;
  /** `5000` (rows), `1h` (age) or both, comma-separated: `5000,1h`. */
  readonly window?: string | undefined;
  readonly pollMs?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

export interface RunningMonitor {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly tailer: StoreTailer;
  close(): Promise<void>;
}

/** Parses `--window`: a row count, a duration, or both separated by a comma. */
export function parseWindowOption(raw: string | undefined): Partial<WindowOptions> {
  if (raw === undefined) return {};
  const out: { maxRows?: number; maxAgeMs?: number } = {};
  for (const part of raw.split(',').map((p) => p.trim())) {
    if (/^\d+$/.test(part) && Number(part) >= 1) out.maxRows = Number(part);
    else {
      const ms = parseDuration(part);
      if (ms === undefined)
        throw badOption(
          `--window must be a row count, a duration or both (e.g. 5000,1h), got "${raw}"`,
          'e.g. --window 5000 or --window 1h',
        );
      out.maxAgeMs = ms;
    }
  }
  return out;
}

function port(raw: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 65535)
    throw badOption(
      `--port must be an integer from 0 to 65535, got "${raw}"`,
      'e.g. --port 9100 (or CHURNWATCH_MONITOR_PORT)',
    );
  return value;
}

export async function runMonitorServe(options: MonitorServeOptions = {}): Promise<RunningMonitor> {
  const env = options.env ?? process.env;
  const modelPath = pick(options.model, env, 'CHURNWATCH_MODEL') ?? MONITOR_DEFAULTS.modelPath;
  const storeUrl = pick(options.store, env, 'CHURNWATCH_STORE_URL') ?? MONITOR_DEFAULTS.storeUrl;
  const listenPort = port(
    pick(options.port, env, 'CHURNWATCH_MONITOR_PORT') ?? String(MONITOR_DEFAULTS.port),
  );
  const host = pick(options.host, env, 'CHURNWATCH_MONITOR_HOST') ?? MONITOR_DEFAULTS.host;
  const window = parseWindowOption(pick(options.window, env, 'CHURNWATCH_MONITOR_WINDOW'));
  const pollRaw = pick(options.pollMs, env, 'CHURNWATCH_MONITOR_POLL_MS');
  const pollMs = pollRaw === undefined ? MONITOR_DEFAULTS.pollMs : Number(pollRaw);
  if (!(Number.isInteger(pollMs) && pollMs >= 100))
    throw badOption(`--poll-ms must be an integer ≥ 100, got "${pollRaw}"`, 'e.g. --poll-ms 2000');
  const logger = options.logger ?? createCliLogger('churnwatch-monitor');
  const model = await loadMonitorModel(modelPath);
  const store = await openMigrated(storeUrl);
  const tailer = createStoreTailer({
    store,
    model,
    window,
    pollMs,
    labelRefreshMs: Math.max(pollMs, 10_000),
    onError: (error) => logger.warn({ err: error }, 'reading the prediction log failed; retrying'),
  });
  let app: FastifyInstance | undefined;
  try {
    const loaded = await tailer.start();
    logger.info(
      { model: model.info.version, rows: loaded.added, labeled: loaded.labeled },
      'window filled from the store',
    );
    tailer.run();
    app = await buildMonitorApp({ tailer, model });
    const url = await app.listen({ port: listenPort, host });
    logger.info({ url, store: redactUrl(storeUrl), window: tailer.window.options }, 'monitor serving');
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      url,
      app: running,
      tailer,
      close() {
        closing ??= (async () => {
          try {
            await running.close();
            await tailer.stop();
          } finally {
            await store.close();
          }
        })();
        return closing;
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await tailer.stop();
    await store.close().catch(() => undefined);
    if (error instanceof ChurnwatchError) throw error;
    if (
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ||
      (error as NodeJS.ErrnoException).code === 'EACCES'
    )
      throw new ChurnwatchError(
        'CW_MONITOR_LISTEN',
        `cannot listen on ${host}:${listenPort}: ${(error as Error).message}`,
        {
          hint: 'choose another --port (or CHURNWATCH_MONITOR_PORT), or stop the process that holds it',
          cause: error,
        },
      );
    throw error;
  }
}

export function registerMonitorCommand(program: Command): void {
  const monitor = program
    .command('monitor')
    .description('Analyse the stored prediction log, or run the monitor role for several API replicas.');
  monitor
    .command('analyze')
    .description('Drift, data quality and performance of the stored predictions, chunk by chunk.')
    .option(
      '--store <url>',
      `sqlite:path or postgres://… (env CHURNWATCH_STORE_URL, default ${MONITOR_DEFAULTS.storeUrl})`,
    )
    .option('--model <dir>', `model directory (env CHURNWATCH_MODEL, default ${MONITOR_DEFAULTS.modelPath})`)
    .option('--chunk <period>', `time chunks: 30m, 1h, 1d… (default ${MONITOR_DEFAULTS.chunk})`)
    .option('--chunk-size <n>', 'row chunks of n predictions instead of time chunks')
    .option('--from <time>', 'first prediction time (ISO 8601 or ms), inclusive')
    .option('--to <time>', 'last prediction time (ISO 8601 or ms), exclusive')
    .option('--json', 'print the chunk series as JSON')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const result = await runMonitorAnalyze({
        store: flags.store as string | undefined,
        model: flags.model as string | undefined,
        chunk: flags.chunk as string | undefined,
        chunkSize: flags.chunkSize as string | undefined,
        from: flags.from as string | undefined,
        to: flags.to as string | undefined,
      });
      process.stdout.write(flags.json ? `${JSON.stringify(result.series, null, 2)}\n` : `${result.table}\n`);
    });
  monitor
    .command('serve')
    .description('Tail the shared store into a sliding window and export the monitor gauges on /metrics.')
    .option(
      '--store <url>',
      `postgres://… or sqlite:path (env CHURNWATCH_STORE_URL, default ${MONITOR_DEFAULTS.storeUrl})`,
    )
    .option('--model <dir>', `model directory (env CHURNWATCH_MODEL, default ${MONITOR_DEFAULTS.modelPath})`)
    .option('--port <port>', `TCP port (env CHURNWATCH_MONITOR_PORT, default ${MONITOR_DEFAULTS.port})`)
    .option('--host <host>', `interface (env CHURNWATCH_MONITOR_HOST, default ${MONITOR_DEFAULTS.host})`)
    .option(
      '--window <spec>',
      'rows, age or both: 5000 | 1h | 5000,1h (env CHURNWATCH_MONITOR_WINDOW; default the calibrated window size)',
    )
    .option(
      '--poll-ms <ms>',
      `store poll period (env CHURNWATCH_MONITOR_POLL_MS, default ${MONITOR_DEFAULTS.pollMs})`,
    )
    .action(async (flags: Record<string, string | undefined>) => {
      const running = await runMonitorServe({
        store: flags.store,
        model: flags.model,
        port: flags.port,
        host: flags.host,
        window: flags.window,
        pollMs: flags.pollMs,
      });
      process.stdout.write(
        `churnwatch monitor serving ${running.tailer.window.modelVersion} at ${running.url}/metrics\n`,
      );
      await new Promise<void>((resolve, reject) => {
        const stop = () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          running.close().then(resolve, reject);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
