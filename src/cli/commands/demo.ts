/**
 * `churnwatch demo` (`npm run demo`): everything in one process on a fresh clone. Uses data/train.csv when
 * downloaded, else generates data; splits it into a training part and a held-out part; trains a model if
 * there is none; serves the API (SQLite store, in-process monitor, built-in dashboard); replays the
 * held-out rows with `stable` traffic that turns into a drift scenario after --drift-after, and delivers
 * their labels time-compressed (--speed) so labels arrive within the first minute. Ctrl-C stops it all.
 */

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { cliCommand } from '../../cli-command.js';
import { createOptionReader } from '../../config/option-values.js';
import { splitCsvFile } from '../../data/split.js';
import { writeSyntheticCsv } from '../../data/synthetic.js';
import { ChurnwatchError } from '../../errors.js';
import { DEFAULT_GBDT_PARAMS } from '../../model/gbdt.js';
import { parseDuration } from '../../monitor/chunks.js';
import { type FeedbackSimResult, startFeedbackSimulator } from '../../simulate/feedback.js';
import { type PredictionSimResult, simulatePredictions } from '../../simulate/predictions.js';
import { csvRowSource } from '../../simulate/row-source.js';
import { getScenario, SCENARIO_NAMES } from '../../simulate/scenarios.js';
import { createCliLogger } from '../logger.js';
import { createProgress, formatCount } from '../progress.js';
import { runServe } from './serve.js';
import { predictionsStatus, stopOnSignals } from './simulate.js';
import { runTrain, TRAIN_DEFAULTS } from './train.js';

export const DEMO_DEFAULTS = Object.freeze({
  port: 8000,
  host: '0.0.0.0',
  dir: '.',
  driftAfter: '3m',
  scenario: 'sudden-drift',
  speed: 10,
  rows: 200_000,
  trees: 100,
  rate: 50,
  coverage: 0.8,
  delay: { minMs: 30_000, maxMs: 600_000 },
  prometheus: 'http://localhost:9090',
  grafana: 'http://localhost:3000',
});

export interface DemoOptions {
  readonly port: number;
  readonly host: string;
  readonly dir: string;
  /** Wall-clock time of stable traffic before the scenario starts. */
  readonly driftAfterMs: number;
  readonly scenario: string;
  readonly speed: number;
  /** Rows generated when there is no data/train.csv. */
  readonly rows: number;
  readonly trees: number;
  readonly rate: number;
  readonly pushgatewayUrl?: string | undefined;
  /** Given: printed as is. Absent: printed when the default one answers. */
  readonly prometheusUrl?: string | undefined;
  readonly quiet: boolean;
  readonly signal: AbortSignal;
  /** Called once everything runs, with the URLs to open. */
  readonly onReady?: (urls: DemoUrls) => void;
}

export interface DemoUrls {
  api: string;
  dashboard: string;
  metrics: string;
  docs: string;
  prometheus?: string;
  grafana?: string;
}

export interface DemoResult {
  readonly urls: DemoUrls;
  readonly model: string;
  readonly predictions: PredictionSimResult;
  readonly feedback: FeedbackSimResult;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Data: data/train.csv if downloaded, else generated; split into a training and a held-out part. */
async function prepareData(
  dir: string,
  rows: number,
  quiet: boolean,
): Promise<{ train: string; holdout: string }> {
  const log = createCliLogger('demo');
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const train = join(dataDir, 'demo-train.csv');
  const holdout = join(dataDir, 'demo-holdout.csv');
  if (existsSync(train) && existsSync(holdout)) return { train, holdout };
  let input = join(dataDir, 'train.csv');
  if (!existsSync(input)) {
    input = join(dataDir, 'demo-generated.csv');
    log.info({ rows, file: input }, 'no data/train.csv: generating synthetic data');
    const progress = createProgress('generating', rows, { enabled: !quiet });
    await writeSyntheticCsv(input, { rows, seed: 2024 }, (done) => progress.update(done));
    progress.stop();
  }
  const progress = createProgress('splitting', undefined, { enabled: !quiet });
  await splitCsvFile({
    input,
    trainOut: train,
    holdoutOut: holdout,
    trainFraction: 0.8,
    onProgress: (n) => progress.update(n),
  });
  progress.stop();
  return { train, holdout };
}

/** Runs the demo until `signal` aborts; then stops the simulators and the server and reports. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const log = createCliLogger('demo');
  const dir = resolve(options.dir);
  const scenario = getScenario(options.scenario);
  const data = await prepareData(dir, options.rows, options.quiet);
  const modelsDir = join(dir, 'models');
  const modelPath = join(modelsDir, 'latest');
  if (!existsSync(modelPath)) {
    log.info({ data: data.train, trees: options.trees }, 'no model yet: training one');
    await runTrain({
      data: data.train,
      modelsDir,
      ...(options.pushgatewayUrl ? { pushgatewayUrl: options.pushgatewayUrl } : {}),
      requirePush: false,
      params: { ...DEFAULT_GBDT_PARAMS, trees: options.trees, threads: Math.min(2, availableParallelism()) },
      validationShare: TRAIN_DEFAULTS.validationShare,
      windowSize: TRAIN_DEFAULTS.windowSize,
      quiet: options.quiet,
      logger: log,
    });
  } else if (options.pushgatewayUrl) {
    log.warn(
      { modelPath },
      'the model exists already; training metrics are pushed when a model is trained (delete models/ to retrain)',
    );
  }
  if (options.signal.aborted)
    throw new ChurnwatchError('CW_DEMO_STOPPED', 'stopped before the server started', {
      hint: 'run it again',
    });

  const server = await runServe({
    port: String(options.port),
    host: options.host,
    modelPath,
    storeUrl: `sqlite:${join(dir, 'data', 'demo.db')}`,
    logLevel: 'warn',
    env: process.env,
  });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  // The simulators talk over loopback; the printed URLs name the host a browser can open.
  const base = `http://127.0.0.1:${port}`;
  const shown = `http://${options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host}:${port}`;
  const urls: DemoUrls = {
    api: shown,
    dashboard: `${shown}/dashboard`,
    metrics: `${shown}/metrics`,
    docs: `${shown}/docs`,
  };
  const prometheus = options.prometheusUrl ?? DEMO_DEFAULTS.prometheus;
  if (options.prometheusUrl || (await answers(`${prometheus}/-/ready`))) urls.prometheus = prometheus;
  if (await answers(`${DEMO_DEFAULTS.grafana}/api/health`)) urls.grafana = DEMO_DEFAULTS.grafana;

  try {
    const source = await csvRowSource(data.holdout, { loop: true });
    const status = createProgress('demo', undefined, { enabled: !options.quiet, unit: 'sent' });
    const feedback = startFeedbackSimulator({
      url: base,
      coverage: DEMO_DEFAULTS.coverage,
      minDelayMs: DEMO_DEFAULTS.delay.minMs,
      maxDelayMs: DEMO_DEFAULTS.delay.maxMs,
      speed: options.speed,
      signal: options.signal,
    });
    options.onReady?.(urls);
    const predictions = simulatePredictions({
      url: base,
      source,
      rate: options.rate,
      concurrency: 2,
      batch: 1,
      scenario: getScenario('stable'),
      thenScenario: scenario,
      switchAfterMs: options.driftAfterMs * options.speed,
      speed: options.speed,
      signal: options.signal,
      onSent: (sent) => feedback.add(sent),
      onProgress: (s) =>
        status.update(s.rowsSent, `${predictionsStatus(s)}, ${formatCount(feedback.stats.sent)} labels sent`),
    });
    let predictionResult: PredictionSimResult;
    try {
      predictionResult = await predictions;
    } finally {
      feedback.finish();
      status.stop();
    }
    const feedbackResult = await feedback.done;
    return {
      urls,
      model: server.app.churnwatch.context.models.current?.model.info.version ?? '',
      predictions: predictionResult,
      feedback: feedbackResult,
    };
  } finally {
    await server.close();
  }
}

function resolveDemoOptions(flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv) {
  const opt = createOptionReader(flags, env, {
    code: 'CW_DEMO_BAD_OPTION',
    hint: `see ${cliCommand('demo --help')}`,
  });
  const d = DEMO_DEFAULTS;
  const driftAfterMs =
    opt.duration('driftAfter', 'CHURNWATCH_DEMO_DRIFT_AFTER', { allowZero: true, example: '3m' }) ??
    parseDuration(d.driftAfter)!;
  const scenario = opt.string('scenario', 'CHURNWATCH_DEMO_SCENARIO') ?? d.scenario;
  if (!(SCENARIO_NAMES as readonly string[]).includes(scenario))
    throw opt.error(`unknown scenario "${scenario}"`, `one of ${SCENARIO_NAMES.join(', ')}`);
  return {
    port: opt.integer('port', 'CHURNWATCH_PORT', { min: 0, max: 65535 }) ?? d.port,
    host: opt.string('host', 'CHURNWATCH_HOST') ?? d.host,
    dir: opt.string('dir', 'CHURNWATCH_DEMO_DIR') ?? d.dir,
    driftAfterMs,
    scenario,
    speed: opt.number('speed', 'CHURNWATCH_SIM_SPEED', { above: 0, example: '10' }) ?? d.speed,
    rows: opt.integer('rows', 'CHURNWATCH_DEMO_ROWS', { min: 0 }) ?? d.rows,
    trees: opt.integer('trees', 'CHURNWATCH_TREES', { min: 0 }) ?? d.trees,
    rate: opt.number('rate', 'CHURNWATCH_SIM_RATE', { above: 0, example: '50' }) ?? d.rate,
    pushgatewayUrl: opt.string('pushgateway', 'CHURNWATCH_PUSHGATEWAY_URL'),
    prometheusUrl: opt.string('prometheus', 'CHURNWATCH_PROMETHEUS_URL'),
    quiet: flags.quiet === true,
  };
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Data, model, API, dashboard and simulated traffic in one command (Ctrl-C stops it).')
    .option('--port <port>', `API port (env CHURNWATCH_PORT, default ${DEMO_DEFAULTS.port})`)
    .option('--host <host>', `interface (env CHURNWATCH_HOST, default ${DEMO_DEFAULTS.host})`)
    .option('--dir <dir>', 'working directory for data/ and models/ (default .)')
    .option(
      '--drift-after <duration>',
      `stable traffic for this long (wall clock), then the scenario (default ${DEMO_DEFAULTS.driftAfter})`,
    )
    .option('--scenario <name>', `${SCENARIO_NAMES.join(' | ')} (default ${DEMO_DEFAULTS.scenario})`)
    .option(
      '--speed <x>',
      `time compression of label delays (30s..10m) and scenarios (default ${DEMO_DEFAULTS.speed})`,
    )
    .option('--rate <n>', `predictions per second (default ${DEMO_DEFAULTS.rate})`)
    .option('--rows <n>', `rows generated when data/train.csv is absent (default ${DEMO_DEFAULTS.rows})`)
    .option('--trees <n>', `boosting rounds when a model is trained (default ${DEMO_DEFAULTS.trees})`)
    .option('--pushgateway <url>', 'push training metrics here (env CHURNWATCH_PUSHGATEWAY_URL)')
    .option(
      '--prometheus <url>',
      `Prometheus to point at (default: ${DEMO_DEFAULTS.prometheus} when it answers)`,
    )
    .option('--json', 'print the final summary as JSON')
    .option('--quiet', 'no progress output')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const stop = stopOnSignals();
      try {
        const result = await runDemo({
          ...resolveDemoOptions(flags, process.env),
          signal: stop.signal,
          onReady: (urls) => {
            const lines = [
              'churnwatch demo is running (Ctrl-C to stop)',
              `  dashboard:  ${urls.dashboard}`,
              `  metrics:    ${urls.metrics}`,
              `  API docs:   ${urls.docs}`,
            ];
            if (urls.prometheus) lines.push(`  prometheus: ${urls.prometheus}`);
            if (urls.grafana) lines.push(`  grafana:    ${urls.grafana}`);
            process.stdout.write(`${lines.join('\n')}\n`);
          },
        });
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          const p = result.predictions;
          const f = result.feedback;
          process.stdout.write(
            `demo stopped: ${p.rowsSent} predictions (${Object.entries(p.byScenario)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}), ${f.sent} labels posted, ${f.waiting} not yet due\n`,
          );
        }
      } finally {
        stop.dispose();
      }
    });
}
