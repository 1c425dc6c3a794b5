/**
 * The feedback simulator: for a share (`coverage`) of the predictions served, posts the true label to
 * POST /feedback after a delay drawn uniformly between `minDelayMs` and `maxDelayMs` of simulated time
 * (wall-clock delay = simulated delay / speed). The rest never get a label, as in real life. Labels are
 * the replayed rows' CHURN (changed by the concept-drift scenario), handed over by the predictions
 * simulator in the same process (`add`) or through the hand-off file (handoff-file.ts).
 */
import { createRng } from '../data/rng.js';
import { ChurnwatchError } from '../errors.js';
import { DEFAULT_RETRY, postJson, type RetryOptions, SimulationStopped, sleep } from './api-client.js';
import type { SentPrediction } from './predictions.js';

export interface FeedbackSimOptions {
  readonly url: string;
  /** Share of predictions that ever get a label, 0..1. */
  readonly coverage: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Simulated time per wall-clock time (default 1). */
  readonly speed?: number;
  /** Join key sent: the prediction id, or the user id (the server joins the user's latest prediction). */
  readonly by?: 'prediction_id' | 'user_id';
  readonly seed?: number;
  /** Most labels per POST (default 500). */
  readonly batch?: number;
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
  readonly clock?: () => number;
  readonly onProgress?: (stats: FeedbackSimStats) => void;
}

export interface FeedbackSimStats {
  /** Predictions handed over. */
  received: number;
  /** Of those, chosen to get a label (coverage), and with a label to give. */
  scheduled: number;
  /** Labels posted. */
  sent: number;
  requests: number;
  retries: number;
  /** Scheduled but not yet due (or not delivered because of a stop). */
  waiting: number;
  byStatus: Record<string, number>;
  rejected: number;
}

export interface FeedbackSimResult extends FeedbackSimStats {
  readonly stoppedBy: 'done' | 'signal';
}

export interface FeedbackSimulator {
  /** Hands over served predictions. */
  add(sent: readonly SentPrediction[]): void;
  /** No more predictions will come: finish once the scheduled labels are delivered. */
  finish(): void;
  readonly stats: FeedbackSimStats;
  /** Settles when finished and delivered, or on a stop (undelivered labels are counted in `waiting`). */
  readonly done: Promise<FeedbackSimResult>;
}

interface Due {
  at: number;
  item: SentPrediction;
}

/** A binary min-heap on `at`. */
class DueQueue {
  private readonly heap: Due[] = [];
  get size(): number {
    return this.heap.length;
  }
  push(d: Due): void {
    const h = this.heap;
    h.push(d);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= h[i]!.at) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }
  peek(): Due | undefined {
    return this.heap[0];
  }
  pop(): Due | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

export function validateFeedbackSimOptions(o: FeedbackSimOptions): void {
  const bad = (what: string, hint: string) => {
    throw new ChurnwatchError('CW_SIM_BAD_OPTION', what, { hint });
  };
  if (!(o.coverage >= 0 && o.coverage <= 1))
    bad(`--coverage must be within 0..1, got ${o.coverage}`, 'e.g. --coverage 0.8');
  if (!(o.minDelayMs >= 0 && o.maxDelayMs >= o.minDelayMs && Number.isFinite(o.maxDelayMs)))
    bad(
      `--delay must be a range min..max with 0 ≤ min ≤ max, got ${o.minDelayMs}..${o.maxDelayMs} ms`,
      'e.g. --delay 30s..10m',
    );
  const speed = o.speed ?? 1;
  if (!(speed > 0 && Number.isFinite(speed)))
    bad(`--speed must be a positive number, got ${speed}`, 'e.g. --speed 10');
  if (o.batch !== undefined && !(Number.isInteger(o.batch) && o.batch >= 1))
    bad(`batch must be a positive integer, got ${o.batch}`, 'e.g. 500');
}

/** Starts the feedback simulator; it runs until finish() and delivery, or until `signal` aborts. */
export function startFeedbackSimulator(options: FeedbackSimOptions): FeedbackSimulator {
  validateFeedbackSimOptions(options);
  const clock = options.clock ?? Date.now;
  const speed = options.speed ?? 1;
  const by = options.by ?? 'prediction_id';
  const batch = options.batch ?? 500;
  const retry = options.retry ?? DEFAULT_RETRY;
  const rng = createRng(options.seed ?? 11, 1);
  const endpoint = `${options.url.replace(/\/+$/, '')}/feedback`;
  const queue = new DueQueue();
  const stats: FeedbackSimStats = {
    received: 0,
    scheduled: 0,
    sent: 0,
    requests: 0,
    retries: 0,
    waiting: 0,
    byStatus: {},
    rejected: 0,
  };
  let finished = false;
  let wake: (() => void) | undefined;
  const signal = options.signal;

  const deliver = async (items: SentPrediction[]) => {
    const records = items.map((s) =>
      by === 'user_id'
        ? { user_id: s.userId, churn: s.label }
        : { prediction_id: s.predictionId, churn: s.label },
    );
    const answer = await postJson(endpoint, { records }, { retry, ...(signal ? { signal } : {}) });
    stats.requests++;
    stats.retries += answer.retries;
    if (answer.status >= 400) {
      stats.rejected += items.length;
      const message = (answer.body as { message?: string } | undefined)?.message ?? `HTTP ${answer.status}`;
      throw new ChurnwatchError('CW_SIM_REJECTED', `${endpoint} rejected a feedback batch: ${message}`, {
        hint: 'check that --url points at a churnwatch API',
      });
    }
    stats.sent += items.length;
    for (const r of (answer.body as { results?: { status: string }[] }).results ?? []) {
      stats.byStatus[r.status] = (stats.byStatus[r.status] ?? 0) + 1;
    }
  };

  const loop = async (): Promise<FeedbackSimResult> => {
    for (;;) {
      if (signal?.aborted) break;
      const now = clock();
      const due: SentPrediction[] = [];
      while (due.length < batch && (queue.peek()?.at ?? Number.POSITIVE_INFINITY) <= now)
        due.push(queue.pop()!.item);
      stats.waiting = queue.size;
      if (due.length > 0) {
        try {
          await deliver(due);
        } catch (error) {
          if (error instanceof SimulationStopped) {
            stats.waiting += due.length;
            break;
          }
          throw error;
        }
        options.onProgress?.(stats);
        continue;
      }
      if (finished && queue.size === 0) break;
      const next = queue.peek()?.at;
      // Sleep until the next label is due (at most 1 s, so new hand-overs are seen), or until woken.
      const wait = Math.max(10, Math.min(1000, next === undefined ? 1000 : next - now));
      await Promise.race([sleep(wait, signal), new Promise<void>((r) => (wake = r))]);
      wake = undefined;
    }
    stats.waiting = queue.size;
    return { ...stats, stoppedBy: signal?.aborted ? 'signal' : 'done' };
  };

  const done = loop();
  return {
    add(sent) {
      for (const s of sent) {
        stats.received++;
        const u = rng.next();
        const u2 = rng.next();
        if (s.label === null || u >= options.coverage) continue;
        const delaySim = options.minDelayMs + u2 * (options.maxDelayMs - options.minDelayMs);
        queue.push({ at: s.sentAt + delaySim / speed, item: s });
        stats.scheduled++;
      }
      stats.waiting = queue.size;
    },
    finish() {
      finished = true;
      wake?.();
    },
    stats,
    done,
  };
}
