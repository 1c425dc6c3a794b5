/**
 * `churnwatch simulate predictions|feedback`: replay held-out rows against a running API, then deliver
 * their labels later. The two hand over through a JSON-lines file (default data/sent-predictions.jsonl),
 * so `npm run simulate-predictions` and `npm run simulate-feedback` can run in two terminals. Ctrl-C stops
 * either cleanly and prints what was sent.
 */

import type { Command } from 'commander';
import { cliCommand } from '../../cli-command.js';
import { createOptionReader, parseDurationRange } from '../../config/option-values.js';
import { openCsvFile } from '../../data/csv-feed.js';
import { ChurnwatchError } from '../../errors.js';
import { type FeedbackSimResult, startFeedbackSimulator } from '../../simulate/feedback.js';
import { createHandoffWriter, followHandoff } from '../../simulate/handoff-file.js';
import {
  type PredictionSimResult,
  type PredictionSimStats,
  simulatePredictions,
} from '../../simulate/predictions.js';
import {
  fetchReplayModel,
  isExpressoSchema,
  loadReplayModel,
  type ReplayModel,
} from '../../simulate/replay-model.js';
import { csvRowSource, generatedRowSource, type RowSource } from '../../simulate/row-source.js';
import { planScenarios } from '../../simulate/scenario-plan.js';
import { expressoPlan, getScenario, SCENARIO_NAMES, type ScenarioPlan } from '../../simulate/scenarios.js';
import { hiddenAlias } from '../hidden-alias.js';
import { createCliLogger } from '../logger.js';
import { createProgress, formatCount } from '../progress.js';

export const SIMULATE_DEFAULTS = Object.freeze({
  url: 'http://localhost:8000',
  rate: 50,
  concurrency: 4,
  batch: 1,
  /** Rows sent when --rows is not given: 40 s at the default rate, so the run ends by itself. */
  rows: 2000,
  scenario: 'stable',
  /** As in the demo: label delays of 30s..10m arrive 3 s..60 s after their prediction. */
  speed: 10,
  seed: 7,
  handoff: 'data/sent-predictions.jsonl',
  coverage: 0.8,
  delay: '30s..10m',
  by: 'prediction_id',
});

export interface SimulatePredictionsOptions {
  readonly url: string;
  readonly data?: string | undefined;
  /** The artifact the server runs: its schema reads --data; else GET /model tells it. */
  readonly model?: string | undefined;
  /** Features the scenarios shift instead of the ones chosen from the model (scenario-plan.ts). */
  readonly features?: readonly string[] | undefined;
  readonly loop: boolean;
  readonly rate: number;
  readonly concurrency: number;
  readonly batch: number;
  /** Rows to send; undefined: no limit (the whole file, or until Ctrl-C). */
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

/** `--feature` may be repeated (commander collects it into an array) or given as CHURNWATCH_SIM_FEATURES, comma-separated. */
function featureList(flags: Flags, env: NodeJS.ProcessEnv): string[] {
  const raw = (flags as Record<string, unknown>).feature;
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw === 'string') return [raw];
  const fromEnv = env.CHURNWATCH_SIM_FEATURES;
  return fromEnv
    ? fromEnv
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '')
    : [];
}

const BAD_OPTION = {
  code: 'CW_SIM_BAD_OPTION' as const,
  hint: `see ${cliCommand('simulate predictions --help')} or ${cliCommand('simulate feedback --help')}`,
};

const DEFAULT_DELAY = parseDurationRange('--delay', SIMULATE_DEFAULTS.delay, BAD_OPTION);

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
  const rows = opt.integer('rows', 'CHURNWATCH_SIM_ROWS', { min: 0, example: '2000' }) ?? d.rows;
  return {
    url: opt.string('url', 'CHURNWATCH_URL') ?? d.url,
    data: opt.string('data', ['CHURNWATCH_DATA', 'CHURNWATCH_SIM_DATA']),
    model: opt.string('model', 'CHURNWATCH_MODEL'),
    features: featureList(flags, env),
    loop: flags.loop === true,
    rate: opt.number('rate', 'CHURNWATCH_SIM_RATE') ?? d.rate,
    concurrency: opt.integer('concurrency', 'CHURNWATCH_SIM_CONCURRENCY') ?? d.concurrency,
    batch: opt.integer('batch', 'CHURNWATCH_SIM_BATCH') ?? d.batch,
    rows: rows === 0 ? undefined : rows,
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
  const delay = opt.durationRange('delay', 'CHURNWATCH_SIM_DELAY') ?? DEFAULT_DELAY;
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

/** A wall-clock span as people say it: `40 s`, `3 min`, `1.5 h`. */
export function humanDuration(ms: number): string {
  const round = (x: number) => String(Math.round(x * 10) / 10);
  if (ms < 120_000) return `${round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${round(ms / 60_000)} min`;
  return `${round(ms / 3_600_000)} h`;
}

/** What `simulate predictions` is about to do, said before it starts. */
export function describePredictionsRun(o: SimulatePredictionsOptions, source: string): string {
  const count =
    o.rows === undefined
      ? o.data && !o.loop
        ? `every row of ${source}`
        : `rows until Ctrl-C, from ${source},`
      : `${formatCount(o.rows)} rows, about ${humanDuration((1000 * o.rows) / o.rate)}, from ${source}`;
  const switchMs = o.switchAfterMs;
  const then =
    o.thenScenario === undefined || switchMs === undefined
      ? ''
      : `, then ${o.thenScenario} after ${humanDuration(switchMs)} simulated (${humanDuration(switchMs / o.speed)} at speed ${o.speed})`;
  const record = o.handoff ? `; each answer is recorded in ${o.handoff} for simulate feedback` : '';
  const limit = o.rows === undefined ? '' : '. --rows N sends N rows, --rows 0 runs until Ctrl-C';
  return `simulate predictions: sending ${count} to ${o.url}/predict at ${formatCount(o.rate)} rows/s, scenario ${o.scenario}${then}${record}${limit}.`;
}

/** What `simulate feedback` is about to do, said before it starts. */
export function describeFeedbackRun(o: SimulateFeedbackOptions): string {
  const wall = `${humanDuration(o.minDelayMs / o.speed)}..${humanDuration(o.maxDelayMs / o.speed)}`;
  const simulated = `${humanDuration(o.minDelayMs)}..${humanDuration(o.maxDelayMs)}`;
  return (
    `simulate feedback: following ${o.handoff}; posting the actual churn of ${Math.round(o.coverage * 100)}% of the predictions ` +
    `to ${o.url}/feedback by ${o.by}, each ${wall} after its prediction (${simulated} simulated at speed ${o.speed}). ` +
    'It ends once simulate predictions has finished and every label is posted (Ctrl-C stops sooner).'
  );
}

/** The predictions simulator's progress detail, in plain words. */
export function predictionsStatus(s: Pick<PredictionSimStats, 'scenario' | 'rejected'>): string {
  return `scenario: ${s.scenario}, ${formatCount(s.rejected)} rejected`;
}

/** The feedback simulator's progress detail, in plain words. */
export function feedbackStatus(s: Pick<FeedbackSimResult, 'waiting' | 'rejected'>): string {
  return `${formatCount(s.waiting)} labels waiting, ${formatCount(s.rejected)} rejected`;
}

function say(quiet: boolean, text: string): void {
  if (!quiet) process.stderr.write(`${text}\n`);
}

/**
 * The model the traffic is for: the artifact of --model, else (for --data or --feature) what GET /model
 * says; undefined for the default run on generated Expresso rows, which needs neither.
 */
async function replayModelFor(options: SimulatePredictionsOptions): Promise<ReplayModel | undefined> {
  if (options.model) return loadReplayModel(options.model);
  if (!options.data && (options.features ?? []).length === 0) return undefined;
  return fetchReplayModel(options.url, options.signal ? { signal: options.signal } : {});
}

/** The rows to replay and the scenario plan for them. */
export async function replaySetup(
  options: SimulatePredictionsOptions,
): Promise<{ source: RowSource; plan: ScenarioPlan; model?: ReplayModel }> {
  // A file that cannot be opened is the first thing to say, before asking a server for its model.
  if (options.data) await (await openCsvFile(options.data)).close();
  const model = await replayModelFor(options);
  const plan = model ? planScenarios(model, options.features ?? []) : expressoPlan();
  if (options.data) {
    const source = await csvRowSource(options.data, {
      loop: options.loop,
      ...(model ? { schema: model.schema } : {}),
    });
    return { source, plan, ...(model ? { model } : {}) };
  }
  if (model && !isExpressoSchema(model.schema))
    throw new ChurnwatchError(
      'CW_SIM_BAD_OPTION',
      `the model at ${model.source} is not an Expresso model, and generated rows are Expresso customers`,
      {
        hint: `replay a held-out CSV of its schema: ${cliCommand('simulate predictions --data holdout.csv')}`,
      },
    );
  return { source: generatedRowSource(options.seed), plan, ...(model ? { model } : {}) };
}

export async function runSimulatePredictions(
  options: SimulatePredictionsOptions,
): Promise<PredictionSimResult> {
  const log = createCliLogger('simulate-predictions');
  const { source, plan } = await replaySetup(options);
  const scenario = getScenario(options.scenario, plan);
  const thenScenario =
    options.thenScenario === undefined ? undefined : getScenario(options.thenScenario, plan);
  const handoff = options.handoff ? await createHandoffWriter(options.handoff) : undefined;
  log.debug(
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
  say(options.quiet, describePredictionsRun(options, source.description));
  for (const s of [scenario, thenScenario])
    if (s && s.name !== 'stable')
      say(options.quiet, `scenario ${s.name}: ${s.summary}; expect: ${s.expect}.`);
  const size = options.loop ? undefined : source.size;
  const total = options.rows === undefined ? size : Math.min(options.rows, size ?? options.rows);
  const status = createProgress('predictions', total, { enabled: !options.quiet, unit: 'rows sent' });
  let result: PredictionSimResult | undefined;
  try {
    result = await simulatePredictions({
      url: options.url,
      source,
      rate: options.rate,
      concurrency: options.concurrency,
      batch: options.batch,
      rows: options.rows,
      scenario,
      switchAfterMs: options.switchAfterMs,
      thenScenario,
      speed: options.speed,
      seed: options.seed,
      ...(options.signal ? { signal: options.signal } : {}),
      onSent: (sent) => handoff?.write(sent),
      onProgress: (s) => status.update(s.rowsSent, predictionsStatus(s)),
    });
    status.stop();
    return result;
  } finally {
    if (!result) status.fail();
    await handoff?.close(result ? { rows: result.rowsSent } : { error: true });
  }
}

export async function runSimulateFeedback(options: SimulateFeedbackOptions): Promise<FeedbackSimResult> {
  const log = createCliLogger('simulate-feedback');
  say(options.quiet, describeFeedbackRun(options));
  const status = createProgress('feedback', undefined, { enabled: !options.quiet, unit: 'labels posted' });
  const sim = startFeedbackSimulator({
    url: options.url,
    coverage: options.coverage,
    minDelayMs: options.minDelayMs,
    maxDelayMs: options.maxDelayMs,
    speed: options.speed,
    by: options.by,
    seed: options.seed,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (s) => status.update(s.sent, feedbackStatus(s)),
  });
  log.debug(
    {
      url: options.url,
      handoff: options.handoff,
      coverage: options.coverage,
      delayMs: [options.minDelayMs, options.maxDelayMs],
      speed: options.speed,
    },
    'delivering labels',
  );
  let result: FeedbackSimResult | undefined;
  try {
    await followHandoff(options.handoff, (sent) => sim.add(sent), {
      ...(options.signal ? { signal: options.signal } : {}),
      onWaiting: () =>
        say(
          options.quiet,
          `simulate feedback: waiting for ${options.handoff} (start simulate predictions, in another terminal or after this one)`,
        ),
    });
    sim.finish();
    result = await sim.done;
    status.stop();
    return result;
  } finally {
    sim.finish();
    if (!result) status.fail();
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
  const predictions = simulate
    .command('predictions')
    .description(
      `Replay held-out (or generated) rows as POST /predict at a steady rate; ${formatCount(SIMULATE_DEFAULTS.rows)} rows unless --rows says otherwise.`,
    )
    .option('--url <url>', `API base URL (env CHURNWATCH_URL, default ${SIMULATE_DEFAULTS.url})`)
    .option(
      '--data <file>',
      "held-out CSV with the model's columns (env CHURNWATCH_DATA; default: generated Expresso rows)",
    )
    .option(
      '--model <dir>',
      "the artifact the API serves, whose schema reads --data (env CHURNWATCH_MODEL; default: ask the API's GET /model)",
    )
    .option(
      '--feature <name>',
      'a feature the scenario shifts instead of the one chosen from the model; repeat for several (env CHURNWATCH_SIM_FEATURES, comma-separated)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--loop', 'start the file again when it ends (ids get a ~N suffix)')
    .option('--rate <n>', `rows per second (env CHURNWATCH_SIM_RATE, default ${SIMULATE_DEFAULTS.rate})`)
    .option('--concurrency <n>', `requests in flight (default ${SIMULATE_DEFAULTS.concurrency})`)
    .option('--batch <n>', `rows per request (default ${SIMULATE_DEFAULTS.batch})`)
    .option(
      '--rows <n>',
      `stop after N rows; 0: no limit, the whole file or until Ctrl-C (env CHURNWATCH_SIM_ROWS, default ${SIMULATE_DEFAULTS.rows})`,
    )
    .option('--scenario <name>', `${SCENARIO_NAMES.join(' | ')} (default ${SIMULATE_DEFAULTS.scenario})`)
    .option(
      '--speed <x>',
      `simulated time per wall-clock time, for scenario timing (default ${SIMULATE_DEFAULTS.speed})`,
    )
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
  hiddenAlias(predictions, '--input <file>', 'data');
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
    .option(
      '--speed <x>',
      `simulated time per wall-clock time: --speed 10 turns 10m into 1m (default ${SIMULATE_DEFAULTS.speed})`,
    )
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
