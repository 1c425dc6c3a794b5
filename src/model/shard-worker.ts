/**
 * A training thread: works its shard of every step the trainer hands out (shard-pool.ts) until told
 * to stop. A failure is reported on the error port and flagged in the control word, so the trainer,
 * which never yields to its event loop mid-round, learns of it without waiting forever.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { CONTROL, decodeRound, decodeSplit, Step, waitFor } from './shard-pool.js';
import { createTrainingShard, type TrainingBuffers } from './training-shard.js';

interface WorkerData {
  readonly buffers: TrainingBuffers;
  readonly shard: number;
  readonly control: Int32Array;
  readonly errorPort: MessagePort;
}

const { buffers, shard, control, errorPort } = workerData as WorkerData;
const work = createTrainingShard(buffers, shard);
let seen = Atomics.load(control, CONTROL.sequence);
parentPort?.postMessage('ready');
for (;;) {
  waitFor(control, CONTROL.sequence, seen);
  seen = Atomics.load(control, CONTROL.sequence);
  const step = Atomics.load(control, CONTROL.step);
  if (step === Step.Stop) break;
  try {
    if (step === Step.Round) work.beginRound(decodeRound(control));
    else work.split(decodeSplit(control));
  } catch (error) {
    errorPort.postMessage(error instanceof Error ? (error.stack ?? error.message) : String(error));
    Atomics.store(control, CONTROL.failed, 1);
  }
  Atomics.add(control, CONTROL.done, 1);
  Atomics.notify(control, CONTROL.done);
}
errorPort.close();
