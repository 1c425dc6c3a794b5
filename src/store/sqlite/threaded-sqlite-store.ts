/**
 * The SQLite store as the server uses it: every write runs on a writer thread with its own connection
 * (sqlite-writer-worker.ts), reads (readPredictions, readColumns, storedIds) run here on the store's reader
 * connection. better-sqlite3 is synchronous, so on the event loop a 5,000-row insert held every request
 * for tens of milliseconds; on its own thread it costs the loop only the hand-over of parameter rows.
 * WAL mode lets the readers here and the writer there work at once. If the writer thread dies, calls
 * in flight fail with CW_STORE_WRITER_STOPPED and the next call starts a new one.
 */
import { Worker } from 'node:worker_threads';
import { isErrorCode } from '../../error-codes.js';
import { ChurnwatchError } from '../../errors.js';
import { workerScript } from '../../worker-script.js';
import type {
  DroppedPending,
  FeedbackCounts,
  FeedbackInput,
  FeedbackOutcome,
  PendingJoin,
  PredictionStore,
} from '../prediction-store.js';
import type { RetentionStep } from './retention.js';
import { createSqliteStore, dropInSteps, type SqliteStoreOptions } from './sqlite-store.js';
import type {
  WriterData,
  WriterErrorData,
  WriterOperation,
  WriterRequest,
  WriterResponse,
} from './sqlite-writer-protocol.js';

/**
 * The writer thread's young generation, MiB. Each batch it receives is garbage once written; V8's
 * default lets the young generation grow to 48 MiB on 64-bit, which the batch overload benchmark saw as
 * resident memory. 8 MiB costs a few more scavenges (docs/performance.md).
 */
const WRITER_YOUNG_GENERATION_MB = 8;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

function rebuildError(data: WriterErrorData): Error {
  if (isErrorCode(data.code)) {
    return new ChurnwatchError(data.code, data.message, data.hint ? { hint: data.hint } : {});
  }
  const error = data.name === 'TypeError' ? new TypeError(data.message) : new Error(data.message);
  if (data.code) (error as Error & { code?: string }).code = data.code;
  return error;
}

export interface ThreadedSqliteStoreHooks {
  /** Called with each writer thread started (tests stop it to check recovery). */
  readonly onWriterStarted?: (worker: Worker) => void;
}

export function createThreadedSqliteStore(
  options: SqliteStoreOptions,
  hooks: ThreadedSqliteStoreHooks = {},
): PredictionStore {
  if (options.path === ':memory:') {
    throw new RangeError('an in-memory SQLite database cannot be shared with a writer thread');
  }
  // Opening here first reports a bad path synchronously, as the in-thread store does.
  const reader = createSqliteStore(options);
  const data: WriterData = { ...options };
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let worker: Worker | undefined;
  let closed = false;

  function failAll(error: Error): void {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  }

  function start(): Worker {
    const { script, eval: isEval } = workerScript(import.meta.url, 'sqlite-writer-worker');
    const w = new Worker(script, {
      eval: isEval,
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    w.on('message', (response: WriterResponse) => {
      const p = pending.get(response.id);
      if (!p) return;
      pending.delete(response.id);
      if (response.ok) p.resolve(response.value);
      else p.reject(rebuildError(response.error));
    });
    w.on('error', (error) => {
      if (worker === w) worker = undefined;
      failAll(
        new ChurnwatchError(
          'CW_STORE_WRITER_STOPPED',
          `the SQLite writer thread for ${options.path} failed: ${error.message}`,
          { hint: 'the next write starts a new writer thread; check the disk and the file', cause: error },
        ),
      );
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (pending.size > 0) {
        failAll(
          new ChurnwatchError(
            'CW_STORE_WRITER_STOPPED',
            `the SQLite writer thread for ${options.path} stopped (exit code ${code})`,
            { hint: 'the next write starts a new writer thread; check the disk and the file' },
          ),
        );
      }
    });
    // An idle writer must not keep the process alive; calls in flight hold it via their promises.
    w.unref();
    hooks.onWriterStarted?.(w);
    return w;
  }

  function call<T>(op: WriterOperation, arg?: unknown): Promise<T> {
    if (closed && op !== 'close') return Promise.reject(new Error(`SQLite store ${options.path} is closed`));
    worker ??= start();
    const id = nextId++;
    const done = new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    worker.ref();
    // postMessage copies `arg`; no closure here refers to it, so a batch of rows is not kept alive
    // (and promoted) while the writer works on it.
    const request: WriterRequest = arg === undefined ? { id, op } : { id, op, arg };
    worker.postMessage(request);
    return done.finally(() => {
      if (pending.size === 0) worker?.unref();
    });
  }

  return {
    kind: 'sqlite',
    rowLayout: reader.rowLayout,
    migrate: () => call<void>('migrate'),
    // Not async: an async function's frame would hold the rows until the write is done.
    insertRows: (rows) => (rows.count > 0 ? call<void>('insertRows', rows) : Promise.resolve()),
    // The writer thread runs requests in arrival order, so a write posted behind another waits there.
    // With no writer thread (the one running the write ahead died), it is refused: a new thread must not
    // store it before the write ahead is retried.
    insertRowsAfter: (rows) => (worker ? call<boolean>('insertRowsAfter', rows) : Promise.resolve(false)),
    recordFeedback: (items: readonly FeedbackInput[]) => call<FeedbackOutcome[]>('recordFeedback', items),
    joinPending: () => call<PendingJoin>('joinPending'),
    dropPending: (limits) => call<DroppedPending>('dropPending', limits),
    // A lookup by primary key on the read connection: never queued behind a big insert.
    storedIds: (ids) => reader.storedIds(ids),
    // One request per step: the writer runs the requests queued meanwhile (inserts) between steps.
    dropPredictions: (createdBefore, signal) =>
      dropInSteps(
        () => call<RetentionStep>('retentionStep', createdBefore),
        () => call<boolean>('vacuumStep'),
        signal,
      ),
    // The file sizes and an index probe: here, never queued behind a big insert.
    storeStats: () => reader.storeStats(),
    readPredictions: (query) => reader.readPredictions(query),
    readColumns: (query) => reader.readColumns(query),
    countFeedback: () => call<FeedbackCounts>('countFeedback'),
    // A read of the pending rows only: here on the read connection, never queued behind a big insert.
    countPendingFeedback: () => reader.countPendingFeedback(),
    pendingStats: () => reader.pendingStats(),
    ping: () => call<void>('ping'),
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (worker) await call<void>('close');
      } finally {
        await worker?.terminate();
        worker = undefined;
        await reader.close();
      }
    },
  };
}
