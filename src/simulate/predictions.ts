/**
 * The predictions simulator: replays rows as POST /predict requests at a steady rate (a token bucket in
 * rows per second, shared by `concurrency` workers), shifting them as the scenario says, and reports each
 * prediction served (id, user, true label) to whoever delivers the labels later (the feedback simulator in
 * the same process, or the hand-off file it reads).
 *
 * Time: `speed` compresses simulated time. Scenario time (the switch to the second scenario, the growth of
 * gradual drift) is simulated time; the request rate is wall-clock.
 */
import { createRng } from '../data/rng.js';
import { ChurnwatchError } from '../errors.js';
import { DEFAULT_RETRY, postJson, type RetryOptions, SimulationStopped, sleep } from './api-client.js';
import type { RowSource } from './row-source.js';
import { applyShift, type Scenario, type SimRow, toRequestRecord } from './scenarios.js';

/** What the feedback side needs about one served prediction. */
export interface SentPrediction {
  readonly predictionId: string;
  readonly userId: string;
  /** The true label (after the scenario), null when the source has none. */
  readonly label: 0 | 1 | null;
  /** Wall-clock ms when the answer came back. */
  readonly sentAt: number;
  readonly scenario: string;
}

export interface PredictionSimOptions {
  /** Base URL of the API, e.g. http://localhost:8000. */
  readonly url: string;
  readonly source: RowSource;
  /** Rows per second (wall clock). */
  readonly rate: number;
  readonly concurrency: number;
  /** Rows per request (1: the single-record body; more: `{records: [...]}`). */
  readonly batch: number;
  /** Stop after this many rows; undefined: until the source ends or a stop. */
  readonly rows?: number | undefined;
  readonly scenario: Scenario;
  /** Simulated ms after which `then` replaces `scenario`. */
  readonly switchAfterMs?: number | undefined;
  readonly thenScenario?: Scenario | undefined;
  /** Simulated time per wall-clock time (default 1). */
  readonly speed?: number;
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
  /** Called with each answered request's predictions. */
  readonly onSent?: (sent: readonly SentPrediction[]) => void;
  /** Called after every request (for progress bars). */
  readonly onProgress?: (stats: PredictionSimStats) => void;
  readonly clock?: () => number;
  /** Consecutive rejected (4xx) requests that end the run (default 20): the data or the URL is wrong. */
  readonly maxConsecutiveRejects?: number;
}

export interface PredictionSimStats {
  rowsSent: number;
  requests: number;
  /** Requests answered 4xx (not retried). */
  rejected: number;
  /** Failed attempts that were retried. */
  retries: number;
  byScenario: Record<string, number>;
  scenario: string;
  elapsedSeconds: number;
}

export interface PredictionSimResult extends PredictionSimStats {
  readonly stoppedBy: 'done' | 'signal';
  /** The first rejection's message, to show the user what the API refused. */
  readonly firstRejection?: string;
}

export function validatePredictionSimOptions(o: PredictionSimOptions): void {
  const bad = (what: string, hint: string) => {
    throw new ChurnwatchError('CW_SIM_BAD_OPTION', what, { hint });
  };
  if (!(o.rate > 0 && Number.isFinite(o.rate)))
    bad(`--rate must be a positive number of rows per second, got ${o.rate}`, 'e.g. --rate 50');
  if (!(Number.isInteger(o.concurrency) && o.concurrency >= 1 && o.concurrency <= 256))
    bad(`--concurrency must be an integer from 1 to 256, got ${o.concurrency}`, 'e.g. --concurrency 4');
  if (!(Number.isInteger(o.batch) && o.batch >= 1 && o.batch <= 100_000))
    bad(`--batch must be an integer from 1 to 100000, got ${o.batch}`, 'e.g. --batch 1');
  if (o.rows !== undefined && !(Number.isInteger(o.rows) && o.rows >= 1))
    bad(`--rows must be a positive integer, got ${o.rows}`, 'e.g. --rows 10000');
  const speed = o.speed ?? 1;
  if (!(speed > 0 && Number.isFinite(speed)))
    bad(`--speed must be a positive number, got ${speed}`, 'e.g. --speed 10');
  if ((o.switchAfterMs === undefined) !== (o.thenScenario === undefined))
    bad('--switch-after and --then go together', 'e.g. --switch-after 3m --then sudden-drift');
}

/** A token bucket in rows: take(n) reserves n tokens and waits until the bucket has paid for them. */
export function createTokenBucket(rate: number, burst: number, clock: () => number) {
  let tokens = burst;
  let last = clock();
  return {
    /** Ms to wait before the n tokens just reserved are available (0: now). */
    reserve(n: number): number {
      const now = clock();
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * rate);
      last = now;
      tokens -= n;
      return tokens >= 0 ? 0 : (-tokens / rate) * 1000;
    },
  };
}

interface PredictionAnswer {
  prediction_id: string;
  user_id: string | null;
}

/** Runs the simulator until the rows are sent, the source ends, or `signal` aborts. */
export async function simulatePredictions(options: PredictionSimOptions): Promise<PredictionSimResult> {
  validatePredictionSimOptions(options);
  const clock = options.clock ?? Date.now;
  const speed = options.speed ?? 1;
  const seed = options.seed ?? 7;
  const retry = options.retry ?? DEFAULT_RETRY;
  const maxRejects = options.maxConsecutiveRejects ?? 20;
  const endpoint = `${options.url.replace(/\/+$/, '')}/predict`;
  const started = clock();
  // A small burst (0.2 s of traffic, at least one batch) keeps the rate steady rather than bursty.
  const bucket = createTokenBucket(options.rate, Math.max(options.batch, options.rate * 0.2), clock);
  const stats: PredictionSimStats = {
    rowsSent: 0,
    requests: 0,
    rejected: 0,
    retries: 0,
    byScenario: {},
    scenario: options.scenario.name,
    elapsedSeconds: 0,
  };
  let taken = 0;
  let exhausted = false;
  let consecutiveRejects = 0;
  let firstRejection: string | undefined;
  const internal = new AbortController();
  const signals = options.signal ? [options.signal, internal.signal] : [internal.signal];
  const signal = AbortSignal.any(signals);

  const currentShift = () => {
    const elapsedSim = (clock() - started) * speed;
    if (options.thenScenario && options.switchAfterMs !== undefined && elapsedSim >= options.switchAfterMs) {
      return {
        scenario: options.thenScenario,
        shift: options.thenScenario.shiftAt(elapsedSim - options.switchAfterMs),
      };
    }
    return { scenario: options.scenario, shift: options.scenario.shiftAt(elapsedSim) };
  };

  const takeRows = (): { rows: SimRow[]; scenario: string } | undefined => {
    if (exhausted) return undefined;
    const want = options.rows === undefined ? options.batch : Math.min(options.batch, options.rows - taken);
    if (want <= 0) return undefined;
    const { scenario, shift } = currentShift();
    const rows: SimRow[] = [];
    for (let k = 0; k < want; k++) {
      const row = options.source.next();
      if (!row) {
        exhausted = true;
        break;
      }
      rows.push(applyShift(row, shift, createRng(seed, taken), scenario.plan));
      taken++;
    }
    stats.scenario = scenario.name;
    return rows.length > 0 ? { rows, scenario: scenario.name } : undefined;
  };

  const worker = async () => {
    while (!signal.aborted) {
      const wait = bucket.reserve(options.batch);
      if (wait > 0 && !(await sleep(wait, signal))) return;
      const work = takeRows();
      if (!work) return;
      const records = work.rows.map((row) => toRequestRecord(row, options.scenario.plan.features));
      const body = records.length === 1 && options.batch === 1 ? records[0] : { records };
      const answer = await postJson(endpoint, body, { retry, signal });
      stats.retries += answer.retries;
      stats.requests++;
      if (answer.status >= 400) {
        stats.rejected++;
        consecutiveRejects++;
        const message = (answer.body as { message?: string } | undefined)?.message ?? `HTTP ${answer.status}`;
        firstRejection ??= message;
        if (consecutiveRejects >= maxRejects) {
          throw new ChurnwatchError(
            'CW_SIM_REJECTED',
            `${endpoint} rejected ${consecutiveRejects} requests in a row (first: ${firstRejection})`,
            {
              hint: "check that --url points at a churnwatch API and --data has the columns of the model's schema",
            },
          );
        }
        continue;
      }
      consecutiveRejects = 0;
      const predictions: PredictionAnswer[] =
        'predictions' in (answer.body as object)
          ? (answer.body as { predictions: PredictionAnswer[] }).predictions
          : [answer.body as PredictionAnswer];
      const now = clock();
      const sent: SentPrediction[] = predictions.map((p, k) => ({
        predictionId: p.prediction_id,
        userId: work.rows[k]!.userId,
        label: work.rows[k]!.churn,
        sentAt: now,
        scenario: work.scenario,
      }));
      stats.rowsSent += sent.length;
      stats.byScenario[work.scenario] = (stats.byScenario[work.scenario] ?? 0) + sent.length;
      stats.elapsedSeconds = (now - started) / 1000;
      options.onSent?.(sent);
      options.onProgress?.(stats);
    }
  };

  const workers = Array.from({ length: options.concurrency }, () =>
    worker().catch((error: unknown) => {
      // One worker's fatal error stops the others; a stop request is not an error.
      internal.abort();
      if (!(error instanceof SimulationStopped)) throw error;
    }),
  );
  const outcomes = await Promise.allSettled(workers);
  stats.elapsedSeconds = (clock() - started) / 1000;
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    const error = failed.reason as Error;
    if (error instanceof ChurnwatchError) {
      throw new ChurnwatchError(error.code, `${error.message}; ${stats.rowsSent} rows were sent before`, {
        ...(error.hint ? { hint: error.hint } : {}),
        cause: error,
      });
    }
    throw error;
  }
  return {
    ...stats,
    stoppedBy: options.signal?.aborted ? 'signal' : 'done',
    ...(firstRejection !== undefined ? { firstRejection } : {}),
  };
}
