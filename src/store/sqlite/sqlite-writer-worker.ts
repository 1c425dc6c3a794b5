/**
 * The SQLite writer thread: owns the one connection that writes (predictions, feedback, joins, pings),
 * so a batch insert of thousands of rows never stalls the server's event loop. Requests run one at a
 * time in arrival order, as they would on a single connection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FeedbackInput, PendingLimits, PredictionRows } from '../prediction-store.js';
import { createSqliteStore } from './sqlite-store.js';
import type { WriterData, WriterRequest, WriterResponse } from './sqlite-writer-protocol.js';

const port = parentPort;
if (!port) throw new Error('sqlite-writer-worker must run as a worker thread');
const store = createSqliteStore(workerData as WriterData);

// Whether the last insert failed: an insertRowsAfter behind it is then refused, unwritten, so the
// batched writer's retry stores the rows in their order (prediction-store.ts insertRowsAfter).
let lastInsertFailed = false;

async function insert(rows: PredictionRows): Promise<void> {
  try {
    await store.insertRows(rows);
    lastInsertFailed = false;
  } catch (error) {
    lastInsertFailed = true;
    throw error;
  }
}

async function run(request: WriterRequest): Promise<unknown> {
  switch (request.op) {
    case 'migrate':
      return store.migrate();
    case 'insertRows':
      return insert(request.arg as PredictionRows);
    case 'insertRowsAfter':
      if (lastInsertFailed) return false;
      await insert(request.arg as PredictionRows);
      return true;
    case 'recordFeedback':
      return store.recordFeedback(request.arg as FeedbackInput[]);
    case 'joinPending':
      return store.joinPending();
    case 'dropPending':
      return store.dropPending(request.arg as PendingLimits);
    case 'retentionStep':
      return store.retentionStep(request.arg as number);
    case 'vacuumStep':
      return store.vacuumStep();
    case 'countFeedback':
      return store.countFeedback();
    case 'ping':
      return store.ping();
    case 'close':
      return store.close();
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (request: WriterRequest) => {
  queue = queue.then(async () => {
    let response: WriterResponse;
    try {
      response = { id: request.id, ok: true, value: await run(request) };
    } catch (error) {
      const e = error as Error & { code?: string; hint?: string };
      response = {
        id: request.id,
        ok: false,
        error: {
          name: e.name ?? 'Error',
          message: e.message ?? String(error),
          ...(typeof e.code === 'string' ? { code: e.code } : {}),
          ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
        },
      };
    }
    port.postMessage(response);
    if (request.op === 'close') port.close();
  });
});
