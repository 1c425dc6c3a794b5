/**
 * Feeds a monitoring window from the shared prediction log instead of from the server's hot path: the
 * `churnwatch monitor serve` role, for several API replicas writing to one PostgreSQL store.
 *
 * - New predictions: every `pollMs`, the rows created since the newest one seen (minus `overlapMs`,
 *   because replicas flush their batches a little late, so a row can land with an older createdAt than
 *   one already read); rows already in the window are recognised by id and skipped.
 * - Labels: a label lives on its prediction row, and a join does not change createdAt, so every
 *   `labelRefreshMs` the rows of the window's time range are read again and new labels are joined.
 *   That read costs O(window rows); the default window is small (the calibrated size).
 */
import type { ChurnModel } from '../model/churn-model.js';
import type { LoggedPrediction, PredictionStore } from '../store/prediction-store.js';
import { PredictionWindow, type WindowOptions } from './windows.js';

export interface StoreTailerOptions {
  readonly store: PredictionStore;
  readonly model: ChurnModel;
  readonly window?: Partial<WindowOptions>;
  /** Period of the read of new predictions, ms (default 2000). */
  readonly pollMs?: number;
  /** Period of the re-read of the window for labels joined since, ms (default 10000). */
  readonly labelRefreshMs?: number;
  /** How far before the newest row seen each poll reads again, ms (default 30000). */
  readonly overlapMs?: number;
  readonly clock?: () => number;
  /** Called with an error of a background poll (the next poll retries). */
  readonly onError?: (error: unknown) => void;
}

export interface TailProgress {
  /** Predictions added to the window. */
  readonly added: number;
  /** Labels joined to predictions in the window. */
  readonly labeled: number;
}

export interface StoreTailer {
  readonly window: PredictionWindow;
  /** Fills the window with the newest rows of the model (up to the window size and age). */
  start(): Promise<TailProgress>;
  /** Reads predictions created since the last poll. */
  poll(): Promise<TailProgress>;
  /** Re-reads the window's rows and joins labels that arrived since. */
  refreshLabels(): Promise<TailProgress>;
  /** Runs poll() and refreshLabels() on their timers until stop(). */
  run(): void;
  stop(): Promise<void>;
  /** ms since the epoch of the last successful poll (NaN before the first). */
  readonly lastPollAt: number;
}

export function createStoreTailer(options: StoreTailerOptions): StoreTailer {
  const { store, model } = options;
  const clock = options.clock ?? Date.now;
  const pollMs = options.pollMs ?? 2000;
  const labelRefreshMs = options.labelRefreshMs ?? 10_000;
  const overlapMs = options.overlapMs ?? 30_000;
  const version = model.info.version;
  const window = new PredictionWindow(model.profile, version, options.window);
  let newest = Number.NEGATIVE_INFINITY;
  /** Rows older than this were evicted or never admitted; re-reading them must not add them back. */
  let floor = Number.NEGATIVE_INFINITY;
  let lastPollAt = Number.NaN;
  let busy: Promise<unknown> = Promise.resolve();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const ingest = (page: readonly LoggedPrediction[]): TailProgress => {
    let added = 0;
    let labeled = 0;
    for (const p of page) {
      if (p.modelVersion !== version) continue;
      const known = window.has(p.id);
      if (!known && p.createdAt >= floor) {
        if (window.add(p)) added++;
        if (p.createdAt > newest) newest = p.createdAt;
      }
      if (p.label !== null && window.has(p.id)) {
        const delay = p.labelObservedAt === null ? undefined : p.labelObservedAt - p.createdAt;
        if (window.setLabel(p.id, p.label, delay)) labeled++;
      }
    }
    window.expire(clock());
    // Once the window is full or aged, rows older than its oldest must stay out.
    if (window.rows > 0 && (window.rows === window.options.maxRows || window.options.maxAgeMs !== undefined))
      floor = Math.max(floor, window.oldestCreatedAt);
    return { added, labeled };
  };

  const read = async (query: Parameters<PredictionStore['readPredictions']>[0]): Promise<TailProgress> => {
    let added = 0;
    let labeled = 0;
    for await (const page of store.readPredictions(query)) {
      const r = ingest(page);
      added += r.added;
      labeled += r.labeled;
    }
    lastPollAt = clock();
    return { added, labeled };
  };

  /** One store read at a time: a slow poll is not overlapped by the next. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = busy.then(fn, fn);
    busy = next.catch(() => undefined);
    return next;
  };

  const maxAge = window.options.maxAgeMs;
  const tailer: StoreTailer = {
    window,
    get lastPollAt() {
      return lastPollAt;
    },
    start: () =>
      serial(() =>
        read({
          modelVersion: version,
          limit: window.options.maxRows,
          ...(maxAge !== undefined ? { from: clock() - maxAge } : {}),
        }),
      ),
    poll: () =>
      serial(() =>
        read({
          modelVersion: version,
          ...(Number.isFinite(newest) ? { from: newest - overlapMs } : {}),
          ...(maxAge !== undefined && !Number.isFinite(newest) ? { from: clock() - maxAge } : {}),
        }),
      ),
    refreshLabels: () =>
      serial(async () => {
        if (window.rows === 0) return { added: 0, labeled: 0 };
        return read({ modelVersion: version, from: window.oldestCreatedAt });
      }),
    run() {
      const loop = (fn: () => Promise<unknown>, ms: number) => {
        const schedule = () => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (stopped) return;
            fn()
              .catch((error: unknown) => options.onError?.(error))
              .finally(() => {
                if (!stopped) schedule();
              });
          }, ms);
          timer.unref();
          timers.add(timer);
        };
        schedule();
      };
      loop(tailer.poll, pollMs);
      loop(tailer.refreshLabels, labelRefreshMs);
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await busy;
    },
  };
  return tailer;
}
