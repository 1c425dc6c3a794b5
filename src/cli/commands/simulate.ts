/**
 * `churnwatch simulate predictions|feedback`: replay held-out rows against a running API, then deliver
 * their labels later. The two hand over through a JSON-lines file (default data/sent-predictions.jsonl),
 * so `npm run simulate-predictions` and `npm run simulate-feedback` can run in two terminals. Ctrl-C stops
 * either cleanly and prints what was sent.
 */
import type { Command } from 'commander';
import { parseDuration } from '../../monitor/chunks.js';
import { type FeedbackSimResult, parseDelayRange, startFeedbackSimulator } from '../../simulate/feedback.js';
import { createHandoffWriter, followHandoff } from '../../simulate/handoff-file.js';
import { type PredictionSimResult, simulatePredictions } from '../../simulate/predictions.js';
import { csvRowSource, generatedRowSource } from '../../simulate/row-source.js';
import { getScenario, SCENARIO_NAMES } from '../../simulate/scenarios.js';
import { createCliLogger } from '../logger.js';
import { createOptionReader } from '../parse-options.js';
import { createProgress } from '../progress.js';

export const SIMULATE_DEFAULTS = Object.freeze({
  url: 'http://localhost:8000',
  rate: 50,
  concurrency: 4,
  batch: 1,
  scenario: 'stable',
  speed: 1,
  seed: 7,
  handoff: 'data/sent-predictions.jsonl',
  coverage: 0.8,
  delay: '30s..10m',
  by: 'prediction_id',
});

export interface SimulatePredictionsOptions {
  readonly url: string;
  readonly data?: string | undefined;
  readonly loop: boolean;
  readonly rate: number;
  readonly concurrency: number;
  readonly batch: number;
  readonly rows?: number | undefined;
  readonly scenario: string;
  readonly speed: number;
  readonly switchAfterMs?: number | undefined;
  readonly thenScenario?: string | undefined;
  readonly seed: number;
  /** Hand-off file path, or undefined for none. */
  readonly handoff?: string | undefined;
  readonly quiet: boolean;
  readonly signal?: AbortSignal;
}

export interface SimulateFeedbackOptions {
  readonly url: string;
  readonly coverage: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly speed: number;
  readonly by: 'prediction_id' | 'user_id';
  readonly seed: number;
  readonly handoff: string;
  readonly quiet: boolean;
  readonly signal?: AbortSignal;
}

type Flags = Record<string, string | boolean | undefined>;

const BAD_OPTION = { code: 'CW_SIM_BAD_OPTION', hint: 'see churnwatch simulate --help' } as const;

/** Flags > CHURNWATCH_* environment > defaults, checked. */
export function resolveSimulatePredictionsOptions(
  flags: Flags,
  env: NodeJS.ProcessEnv,
): SimulatePredictionsOptions {
  const d = SIMULATE_DEFAULTS;
  const opt = createOptionReader(flags, env, BAD_OPTION);
  const scenario = opt.string('scenario', 'CHURNWATCH_SIM_SCENARIO') ?? d.scenario;
  const then = opt.string('then', 'CHURNWATCH_SIM_THEN');
  for (const s of [scenario, then]) {
    if (s !== undefined && !(SCENARIO_NAMES as readonly string[]).includes(s))
      throw opt.error(`unknown scenario "${s}"`, `one of ${SCENARIO_NAMES.join(', ')}`);
  }
  const handoff =
    flags.handoff === false ? undefined : (opt.string('handoff', 'CHURNWATCH_SIM_HANDOFF') ?? d.handoff);
  return {
    url: opt.string('url', 'CHURNWATCH_URL') ?? d.url,
    data: opt.string('data', 'CHURNWATCH_SIM_DATA'),
    loop: flags.loop === true,
    rate: opt.number('rate', 'CHURNWATCH_SIM_RATE') ?? d.rate,
    concurrency: opt.integer('concurrency', 'CHURNWATCH_SIM_CONCURRENCY') ?? d.concurrency,
    batch: opt.integer('batch', 'CHURNWATCH_SIM_BATCH') ?? d.batch,
    rows: opt.integer('rows', 'CHURNWATCH_SIM_ROWS'),
    scenario,
    speed: opt.number('speed', 'CHURNWATCH_SIM_SPEED') ?? d.speed,
    switchAfterMs: opt.duration('switchAfter', 'CHURNWATCH_SIM_SWITCH_AFTER', {
      allowZero: true,
      example: '3m',
    }),
    thenScenario: then,
    seed: opt.integer('seed', 'CHURNWATCH_SEED') ?? d.seed,
    handoff,
    quiet: flags.quiet === true,
  };
}

export function resolveSimulateFeedbackOptions(
  flags: Flags,
  env: NodeJS.ProcessEnv,
): SimulateFeedbackOptions {
  const d = SIMULATE_DEFAULTS;
  const opt = createOptionReader(flags, env, BAD_OPTION);
  const delayRaw = opt.string('delay', 'CHURNWATCH_SIM_DELAY') ?? d.delay;
  const delay = parseDelayRange(delayRaw, parseDuration);
  if (!delay)
    throw opt.error(
      `--delay must be a range such as 30s..10m, got "${delayRaw}"`,
      'e.g. --delay 30s..10m (uniform in the range)',
    );
  const by = opt.string('by', 'CHURNWATCH_SIM_BY') ?? d.by;
  if (by !== 'prediction_id' && by !== 'user_id')
    throw opt.error(`--by must be prediction_id or user_id, got "${by}"`, 'e.g. --by user_id');
  return {
    url: opt.string('url', 'CHURNWATCH_URL') ?? d.url,
    coverage: opt.number('coverage', 'CHURNWATCH_SIM_COVERAGE') ?? d.coverage,
    minDelayMs: delay.minMs,
    maxDelayMs: delay.maxMs,
    speed: opt.number('speed', 'CHURNWATCH_SIM_SPEED') ?? d.speed,
    by,
    seed: opt.integer('seed', 'CHURNWATCH_SEED') ?? d.seed,
    handoff: opt.string('handoff', 'CHURNWATCH_SIM_HANDOFF') ?? d.handoff,
    quiet: flags.quiet === true,
  };
}

export async function runSimulatePredictions(
  options: SimulatePredictionsOptions,
): Promise<PredictionSimResult> {
  const log = createCliLogger('simulate-predictions');
  const source = options.data
    ? await csvRowSource(options.data, { loop: options.loop })
    : generatedRowSource(options.seed);
  const handoff = options.handoff ? await createHandoffWriter(options.handoff) : undefined;
  log.info(
    {
      url: options.url,
      source: source.description,
      scenario: options.scenario,
      thenScenario: options.thenScenario,
      rate: options.rate,
      handoff: options.handoff,
    },
    'sending predictions',
  );
  const total = options.rows ?? (options.loop ? undefined : source.size);
  const status = createProgress('predictions', total, { enabled: !options.quiet, unit: 'sent' });
  let result: PredictionSimResult | undefined;
  try {
    result = await simulatePredictions({
      url: options.url,
      source,
      rate: options.rate,
      concurrency: options.concurrency,
      batch: options.batch,
      rows: options.rows,
      scenario: getScenario(options.scenario),
      switchAfterMs: options.switchAfterMs,
      thenScenario: options.thenScenario === undefined ? undefined : getScenario(options.thenScenario),
      speed: options.speed,
      seed: options.seed,
      ...(options.signal ? { signal: options.signal } : {}),
      onSent: (sent) => handoff?.write(sent),
      onProgress: (s) => status.update(s.rowsSent, `${s.rejected} errors | ${s.scenario}`),
    });
    return result;
  } finally {
    status.stop();
    await handoff?.close(result ? { rows: result.rowsSent } : { error: true });
  }
}

export async function runSimulateFeedback(options: SimulateFeedbackOptions): Promise<FeedbackSimResult> {
  const log = createCliLogger('simulate-feedback');
  const status = createProgress('feedback', undefined, { enabled: !options.quiet, unit: 'sent' });
  const sim = startFeedbackSimulator({
    url: options.url,
    coverage: options.coverage,
    minDelayMs: options.minDelayMs,
    maxDelayMs: options.maxDelayMs,
    speed: options.speed,
    by: options.by,
    seed: options.seed,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (s) => status.update(s.sent, `${s.rejected} errors | ${s.waiting} waiting`),
  });
  log.info(
    {
      url: options.url,
      handoff: options.handoff,
      coverage: options.coverage,
      delayMs: [options.minDelayMs, options.maxDelayMs],
      speed: options.speed,
    },
    'delivering labels',
  );
  try {
    await followHandoff(options.handoff, (sent) => sim.add(sent), {
      ...(options.signal ? { signal: options.signal } : {}),
      onWaiting: () =>
        log.info(
          { handoff: options.handoff },
          'waiting for the predictions simulator to create the hand-off file',
        ),
    });
    sim.finish();
    return await sim.done;
  } finally {
    sim.finish();
    status.stop();
  }
}

/** Aborts on the first SIGINT/SIGTERM (a stop: report and exit 0); a second one exits at once. */
export function stopOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping (Ctrl-C again to quit at once)…\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function printPredictions(r: PredictionSimResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const scenarios = Object.entries(r.byScenario)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  process.stdout.write(
    `${r.stoppedBy === 'signal' ? 'stopped' : 'done'}: ${r.rowsSent} rows in ${r.requests} requests over ${r.elapsedSeconds.toFixed(1)} s` +
      ` (${scenarios || 'none'}); ${r.rejected} rejected, ${r.retries} retried${r.firstRejection ? `; first rejection: ${r.firstRejection}` : ''}\n`,
  );
}

function printFeedback(r: FeedbackSimResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const statuses = Object.entries(r.byStatus)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  process.stdout.write(
    `${r.stoppedBy === 'signal' ? 'stopped' : 'done'}: ${r.sent} labels posted for ${r.received} predictions (${statuses || 'none'}); ` +
      `${r.waiting} not yet due, ${r.retries} retried\n`,
  );
}

export function registerSimulateCommand(program: Command): void {
  const simulate = program
    .command('simulate')
    .description('Replay traffic against a running API and deliver labels later.');
  simulate
    .command('predictions')
    .description('Replay held-out (or generated) rows as POST /predict at a steady rate.')
    .option('--url <url>', `API base URL (env CHURNWATCH_URL, default ${SIMULATE_DEFAULTS.url})`)
    .option(
      '--data <file>',
      'held-out CSV in the Train.csv layout (env CHURNWATCH_SIM_DATA; default: generated rows)',
    )
    .option('--loop', 'start the file again when it ends (ids get a ~N suffix)')
    .option('--rate <n>', `rows per second (env CHURNWATCH_SIM_RATE, default ${SIMULATE_DEFAULTS.rate})`)
    .option('--concurrency <n>', `requests in flight (default ${SIMULATE_DEFAULTS.concurrency})`)
    .option('--batch <n>', `rows per request (default ${SIMULATE_DEFAULTS.batch})`)
    .option('--rows <n>', 'stop after N rows (default: the whole file, or until Ctrl-C)')
    .option('--scenario <name>', `${SCENARIO_NAMES.join(' | ')} (default ${SIMULATE_DEFAULTS.scenario})`)
    .option('--speed <x>', 'simulated time per wall-clock time, for scenario timing (default 1)')
    .option('--switch-after <duration>', 'simulated time before switching to --then, e.g. 3m')
    .option('--then <name>', 'the scenario after --switch-after')
    .option('--seed <n>', `seed for generated rows and scenario draws (default ${SIMULATE_DEFAULTS.seed})`)
    .option(
      '--handoff <file>',
      `where served predictions are recorded for simulate feedback (default ${SIMULATE_DEFAULTS.handoff})`,
    )
    .option('--no-handoff', 'do not record served predictions')
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress line')
    .action(async (flags: Flags) => {
      const stop = stopOnSignals();
      try {
        const result = await runSimulatePredictions({
          ...resolveSimulatePredictionsOptions(flags, process.env),
          signal: stop.signal,
        });
        printPredictions(result, flags.json === true);
      } finally {
        stop.dispose();
      }
    });
  simulate
    .command('feedback')
    .description('Post the true labels of served predictions after a delay, for a share of them.')
    .option('--url <url>', `API base URL (env CHURNWATCH_URL, default ${SIMULATE_DEFAULTS.url})`)
    .option(
      '--coverage <share>',
      `share of predictions that get a label, 0..1 (default ${SIMULATE_DEFAULTS.coverage})`,
    )
    .option(
      '--delay <min..max>',
      `label delay, uniform in the range, simulated time (default ${SIMULATE_DEFAULTS.delay})`,
    )
    .option('--speed <x>', 'simulated time per wall-clock time: --speed 10 turns 10m into 1m (default 1)')
    .option('--by <key>', 'join key sent: prediction_id or user_id (default prediction_id)')
    .option('--seed <n>', 'seed for coverage and delay draws')
    .option('--handoff <file>', `the predictions simulator's record (default ${SIMULATE_DEFAULTS.handoff})`)
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress line')
    .action(async (flags: Flags) => {
      const stop = stopOnSignals();
      try {
        const result = await runSimulateFeedback({
          ...resolveSimulateFeedbackOptions(flags, process.env),
          signal: stop.signal,
        });
        printFeedback(result, flags.json === true);
      } finally {
        stop.dispose();
      }
    });
}
