/**
 * A bounded queue in front of the store's insert, so the API never runs one transaction per request:
 * records are written in batches of up to `maxBatch` every `flushIntervalMs`. A failed write is retried
 * with exponential backoff and the records stay queued, never dropped; while the store is down the
 * queue fills and enqueue() answers false (the API then answers 503), and when the store is back the
 * queue drains. close() waits until everything acknowledged is written.
 *
 * waitForRoom() lets a caller wait a bounded time for room instead of being refused at once: under a
 * burst, closed-loop clients then slow to the store's pace rather than spinning on 503s (each refused
 * request still costs its body's bytes and a response), and a request waits before its body is read, so
 * TCP flow control, not the process, holds the bytes.
 *
 * committed() is for callers that answer only once their records are in the store (`--ack commit`): it
 * resolves when every record queued before the call is written, and starts a write at once instead of
 * after flushIntervalMs. What arrives while a write runs goes into the next one, so concurrent requests
 * share a transaction (group commit) and a lone client waits one write, not the flush interval.
 */
import type { RecordColumns } from '../data/record-columns.js';
import type {
  PredictionRecord,
  PredictionRows,
  PredictionStore,
  ScoredPrediction,
} from './prediction-store.js';
import {
  columnsToPredictionRows,
  concatRows,
  EXPRESSO_ROWS,
  sliceRows,
  toPredictionRows,
} from './store-columns.js';

export interface BatchedWriterOptions {
  /** Records held at most (queued plus in flight); beyond that enqueue refuses. Default 10,000. */
  readonly maxQueue?: number;
  /** How long the first record of a batch waits for others, ms. Default 5. */
  readonly flushIntervalMs?: number;
  /** Records per insert call. Default 1,000. */
  readonly maxBatch?: number;
  /** First retry delay after a failed write, ms, doubled per failure. Default 50. */
  readonly retryBaseMs?: number;
  /** Longest retry delay, ms. Default 5,000. */
  readonly retryMaxMs?: number;
  /** After each successful write: records written and seconds it took (for a histogram). */
  readonly onFlush?: (records: number, seconds: number) => void;
  /** After each failed write (it will be retried). */
  readonly onError?: (error: unknown) => void;
}

export interface BatchedWriter {
  /** Queues all records, or none and returns false when they do not fit (the caller answers 503). */
  enqueue(records: readonly PredictionRecord[]): boolean;
  /** enqueue() of records whose features are `columns` (row r is records[r]): the same rows, packed by column. */
  enqueueColumns(records: readonly ScoredPrediction[], columns: RecordColumns): boolean;
  /**
   * Resolves true once every record queued before the call is written, false when `timeoutMs` passes
   * first (the records stay queued and may be written later); starts the next write at once.
   */
  committed(timeoutMs: number): Promise<boolean>;
  /** Resolves once the queue is empty (waits through retries while the store is down). */
  flush(): Promise<void>;
  /** Refuses new records, then flushes everything queued. */
  close(): Promise<void>;
  /** Records queued or in flight. */
  readonly size: number;
  /** Whether enqueue() would accept `count` more records now. */
  hasRoom(count: number): boolean;
  /**
   * Resolves true once there is room for `count` more records (first come, first served), false when
   * `timeoutMs` passes first or the writer closes. Room is not reserved: enqueue() may still refuse.
   */
  waitForRoom(count: number, timeoutMs: number): Promise<boolean>;
}

/**
 * Frees the memory of a Float64Array the writer made and no longer needs now, not at the next full GC.
 * Queued rows live long enough to be promoted to the old generation, and there the buffers of those
 * already written (about 120 KB per 1,000 predictions, and as much again for each batch's
 * concatenation) waited for a mark-compact: 30–40 MB of them at the peak of the batch overload
 * benchmark. Moving a buffer's memory into a clone that is garbage at once hands it to the next
 * scavenge (Node 22's ArrayBuffer.prototype.transfer() does this directly). Only a buffer wholly the
 * array's is moved: a view into memory others may use is left alone.
 */
function release(array: Float64Array): void {
  const buffer = array.buffer;
  if (array.byteOffset !== 0 || array.byteLength !== buffer.byteLength) return;
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}

/**
 * Buffers smaller than this are left to the GC. A release costs a structuredClone call, about 4.5 µs
 * on the 2-core development machine, which for a single-record request's 128-byte buffer was several
 * per cent of the request's time; such buffers are what the GC frees cheaply anyway. Rows of 256
 * predictions or more are released.
 */
const RELEASE_MIN_BYTES = 32 * 1024;

/**
 * Records a write must hold to be posted behind another (postBehind): a batch request's worth. Under
 * single-record traffic, writes posted behind came out at 21–23 records against 38 (docs/performance.md).
 */
const BEHIND_MIN_RECORDS = 1000;

function releaseLarge(numbers: Float64Array): void {
  if (numbers.byteLength >= RELEASE_MIN_BYTES) release(numbers);
}

interface RoomWaiter {
  readonly count: number;
  readonly resolve: (ok: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

interface InFlightWrite {
  readonly count: number;
  readonly started: number;
  readonly copy: Float64Array | undefined;
  /** `written` false: refused unwritten because the write before it failed (insertRowsAfter). */
  readonly done: Promise<{ written: boolean } | { error: unknown }>;
}

interface CommitWaiter {
  /** Records queued since the writer began, at the call: the waiter is done once as many are written. */
  readonly mark: number;
  readonly resolve: (ok: boolean) => void;
  timer?: NodeJS.Timeout;
  /** Timed out: left in the list (cheaper than a search) and skipped when its mark is written. */
  gone: boolean;
}

export function createBatchedWriter(
  store: Pick<PredictionStore, 'insertRows'> &
    Partial<Pick<PredictionStore, 'rowLayout' | 'insertRowsAfter'>>,
  options: BatchedWriterOptions = {},
): BatchedWriter {
  // Rows are packed as the store takes them (its features); a bare insertRows takes Expresso's.
  const layout = store.rowLayout ?? EXPRESSO_ROWS;
  const maxQueue = options.maxQueue ?? 10_000;
  const flushIntervalMs = options.flushIntervalMs ?? 5;
  const maxBatch = options.maxBatch ?? 1_000;
  const retryBaseMs = options.retryBaseMs ?? 50;
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  for (const [name, value] of Object.entries({ maxQueue, maxBatch })) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`batched writer ${name} must be a positive integer`);
  }

  // One PredictionRows per enqueue, oldest first: typed arrays, not records or arrays per prediction.
  let queue: PredictionRows[] = [];
  let queued = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let soon: NodeJS.Immediate | undefined;
  let draining: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const waiters: RoomWaiter[] = [];
  // Totals since the writer began; writes are in queue order, so a record is written once `writtenTotal`
  // reaches the `acceptedTotal` it was queued at.
  let acceptedTotal = 0;
  let writtenTotal = 0;
  const commitWaiters: CommitWaiter[] = [];
  // Writes posted to the store and not yet answered, oldest first (two at most), and how many of the
  // queue's first records they hold. A failed write is retried from the queue's head.
  const inFlight: InFlightWrite[] = [];
  let sent = 0;
  // A write failed: those behind it are refused, and nothing more is posted until all have answered.
  let failing = false;

  const hasRoom = (count: number) => !closed && queued + count <= maxQueue;

  function queueRows(rows: PredictionRows): void {
    queue.push(rows);
    queued += rows.count;
    acceptedTotal += rows.count;
    schedule();
  }

  /** Lets waiters in, oldest first, while there is room for the next one. */
  function admitWaiters(): void {
    while (waiters.length > 0 && (closed || hasRoom(waiters[0]!.count))) {
      const waiter = waiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(!closed);
    }
  }

  /** Resolves the commit waiters whose records are all written now. */
  function admitCommitWaiters(): void {
    while (commitWaiters.length > 0 && commitWaiters[0]!.mark <= writtenTotal) {
      const waiter = commitWaiters.shift()!;
      if (waiter.gone) continue;
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
  }

  function cancelTimers(): void {
    clearTimeout(timer);
    clearImmediate(soon);
    timer = undefined;
    soon = undefined;
  }

  function startDrain(): void {
    cancelTimers();
    draining = drain().finally(() => {
      draining = undefined;
      // Records enqueued during the last write start the next round.
      if (queued > 0) schedule();
    });
  }

  /**
   * The next write: after flushIntervalMs, or on the next turn of the event loop while a caller waits
   * for a commit (requests queued in the same turn share it). A write in progress takes whatever is
   * queued when it ends (drain loops), so nothing is scheduled then, unless a write can wait behind it
   * (postBehind).
   */
  function schedule(): void {
    if (draining) {
      postBehind();
      return;
    }
    if (soon) return;
    if (commitWaiters.length > 0) {
      clearTimeout(timer);
      timer = undefined;
      soon = setImmediate(startDrain);
    } else if (!timer) timer = setTimeout(startDrain, flushIntervalMs);
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      // flush()/close() cut a backoff short: they want the retry now.
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /**
   * At most maxBatch predictions after the first `skip` of the queue (those already posted), as one
   * PredictionRows; the queue is left as it is. `own` tells whether the rows are a copy made here,
   * which nothing else holds once posted.
   */
  function head(skip: number): { rows: PredictionRows; own: boolean } {
    const parts: PredictionRows[] = [];
    let count = 0;
    let at = 0;
    let sliced = false;
    for (const chunk of queue) {
      if (at + chunk.count <= skip) {
        at += chunk.count;
        continue;
      }
      const from = Math.max(0, skip - at);
      const take = Math.min(chunk.count - from, maxBatch - count);
      const whole = from === 0 && take === chunk.count;
      sliced ||= !whole;
      parts.push(whole ? chunk : sliceRows(chunk, from, from + take, layout));
      at += chunk.count;
      count += take;
      if (count === maxBatch) break;
    }
    return { rows: concatRows(parts), own: sliced || parts.length > 1 };
  }

  /** Takes the first `count` predictions, written, out of the queue; frees the large buffers. */
  function dropWritten(count: number): void {
    let chunks = 0;
    let left = count;
    while (chunks < queue.length && queue[chunks]!.count <= left) left -= queue[chunks++]!.count;
    for (let c = 0; c < chunks; c++) releaseLarge(queue[c]!.numbers);
    queue = queue.slice(chunks);
    if (left > 0) {
      const first = queue[0]!;
      queue[0] = sliceRows(first, left, first.count, layout);
      releaseLarge(first.numbers);
    }
  }

  /**
   * Posts the next write of what is queued and not yet posted. `behind`: another write is in flight, and
   * the store runs this one after it, or not at all if that one fails (insertRowsAfter).
   */
  function post(behind: boolean): void {
    const { rows, own } = head(sent);
    const count = rows.count;
    sent += count;
    const started = performance.now();
    const done =
      behind && store.insertRowsAfter ? store.insertRowsAfter(rows) : store.insertRows(rows).then(() => true);
    inFlight.push({
      count,
      started,
      // A copy made here is garbage once the write has answered, written or not (a retry takes the
      // queue's own rows again); the queue's rows stay until written.
      copy: own ? rows.numbers : undefined,
      done: done.then(
        (written) => ({ written }),
        (error: unknown) => ({ error }),
      ),
    });
  }

  /**
   * With a store that runs writes in call order (insertRowsAfter), a second write is posted while one
   * is in flight once it would be as large as that one: the store then starts it the moment the first
   * ends instead of waiting for this thread to hear of it and post (up to a whole batch request of
   * this thread's time). Records arriving slower than the store writes wait for the write in flight,
   * as with any store, and go out together. Below BEHIND_MIN_RECORDS the wait is a single-record
   * request's time, and fewer, larger writes cost less.
   */
  function postBehind(): void {
    if (!store.insertRowsAfter || inFlight.length !== 1 || failing) return;
    const unsent = queued - sent;
    if (unsent >= BEHIND_MIN_RECORDS && unsent >= Math.min(maxBatch, inFlight[0]!.count)) post(true);
  }

  async function drain(): Promise<void> {
    let failures = 0;
    for (;;) {
      if (inFlight.length === 0) {
        if (queued - sent === 0) return;
        failing = false;
        post(false);
      }
      postBehind();
      const write = inFlight[0]!;
      const outcome = await write.done;
      inFlight.shift();
      if (write.copy) releaseLarge(write.copy);
      if ('error' in outcome || !outcome.written) {
        // Every write after a failed one was refused unwritten (insertRowsAfter): all go again, in order.
        if ('error' in outcome) {
          failures++;
          options.onError?.(outcome.error);
        }
        failing = true;
        if (inFlight.length > 0) continue;
        sent = 0;
        await sleep(Math.min(retryMaxMs, retryBaseMs * 2 ** (failures - 1)));
        wake = undefined;
        continue;
      }
      failures = 0;
      // Only now are they out of the queue: a failed write leaves them at its head, in order.
      dropWritten(write.count);
      sent -= write.count;
      queued -= write.count;
      writtenTotal += write.count;
      options.onFlush?.(write.count, (performance.now() - write.started) / 1000);
      admitCommitWaiters();
      admitWaiters();
    }
  }

  async function flush(): Promise<void> {
    for (;;) {
      cancelTimers();
      if (!draining && queued > 0) {
        draining = drain().finally(() => {
          draining = undefined;
        });
      }
      if (!draining) return;
      wake?.();
      await draining;
    }
  }

  return {
    enqueue(records) {
      if (!hasRoom(records.length)) return false;
      if (records.length === 0) return true;
      // Converted (and validated) first, so a bad record throws here and queues nothing.
      queueRows(toPredictionRows(records, layout));
      return true;
    },
    enqueueColumns(records, columns) {
      if (!hasRoom(records.length)) return false;
      if (records.length === 0) return true;
      queueRows(columnsToPredictionRows(records, columns, layout));
      return true;
    },
    committed(timeoutMs) {
      if (writtenTotal >= acceptedTotal) return Promise.resolve(true);
      if (timeoutMs <= 0) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const waiter: CommitWaiter = { mark: acceptedTotal, resolve, gone: false };
        waiter.timer = setTimeout(() => {
          waiter.gone = true;
          resolve(false);
        }, timeoutMs);
        commitWaiters.push(waiter);
        schedule();
      });
    },
    flush,
    async close() {
      closed = true;
      admitWaiters();
      await flush();
    },
    hasRoom,
    waitForRoom(count, timeoutMs) {
      if (hasRoom(count)) return Promise.resolve(true);
      if (closed || timeoutMs <= 0 || count > maxQueue) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const waiter: RoomWaiter = {
          count,
          resolve,
          timer: setTimeout(() => {
            waiters.splice(waiters.indexOf(waiter), 1);
            resolve(false);
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    get size() {
      return queued;
    },
  };
}
