/**
 * Runs a step of a boosting round on every training shard at once: the calling thread works shard 0
 * while each worker works its own shard, then the calling thread sums the shards' histograms. Steps
 * are handed out through an Atomics control word in shared memory, so one costs microseconds, not a
 * message round trip; the calling thread blocks in Atomics.wait (allowed in Node's main thread).
 *
 * Control words: [0] step sequence, [1] step kind, [2..9] arguments, [10] shards done, [11] failed.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { workerScript } from '../worker-script.js';
import {
  createTrainingShard,
  type MarginUpdate,
  type RoundArgs,
  type SplitArgs,
  type TrainingBuffers,
  type TrainingShard,
} from './training-shard.js';

export const Step = { Round: 1, Split: 2, Stop: 3 } as const;
export type Step = (typeof Step)[keyof typeof Step];

export const CONTROL = { sequence: 0, step: 1, args: 2, done: 10, failed: 11, words: 12 } as const;

export function encodeRound(control: Int32Array, a: RoundArgs): void {
  const at = CONTROL.args;
  control[at] = a.update;
  control[at + 1] = a.leafCount;
  control[at + 2] = a.round;
  control[at + 3] = a.seed | 0;
  control[at + 4] = a.sampleBelow >= 2 ** 32 ? 1 : 0;
  control[at + 5] = a.sampleBelow | 0;
  control[at + 6] = a.featureCount;
}

export function decodeRound(control: Int32Array): RoundArgs {
  const at = CONTROL.args;
  return {
    update: control[at] as MarginUpdate,
    leafCount: control[at + 1]!,
    round: control[at + 2]!,
    seed: control[at + 3]!,
    sampleBelow: control[at + 4] === 1 ? 2 ** 32 : control[at + 5]! >>> 0,
    featureCount: control[at + 6]!,
  };
}

export function encodeSplit(control: Int32Array, a: SplitArgs): void {
  const at = CONTROL.args;
  control[at] = a.node;
  control[at + 1] = a.left;
  control[at + 2] = a.right;
  control[at + 3] = a.feature;
  control[at + 4] = a.bin;
  control[at + 5] = a.defaultLeft ? 1 : 0;
  control[at + 6] = a.build;
  control[at + 7] = a.featureCount;
}

export function decodeSplit(control: Int32Array): SplitArgs {
  const at = CONTROL.args;
  return {
    node: control[at]!,
    left: control[at + 1]!,
    right: control[at + 2]!,
    feature: control[at + 3]!,
    bin: control[at + 4]!,
    defaultLeft: control[at + 5] === 1,
    build: control[at + 6] as 0 | 1 | 2,
    featureCount: control[at + 7]!,
  };
}

/** Polls before sleeping: most waits here last tens of microseconds, less than a futex wake-up. */
export function waitFor(control: Int32Array, word: number, notEqual: number): void {
  for (let spin = 0; spin < 4000; spin++) if (Atomics.load(control, word) !== notEqual) return;
  while (Atomics.load(control, word) === notEqual) Atomics.wait(control, word, notEqual, 1000);
}

export interface ShardPool {
  /** Starts a round on every shard; `out` receives the root histogram summed over shards. */
  beginRound(args: RoundArgs, out: Float64Array): void;
  /** Splits a node on every shard; `out` receives the built child's histogram (if any). */
  split(args: SplitArgs, out: Float64Array | undefined): void;
  close(): Promise<void>;
}

export async function createShardPool(buffers: TrainingBuffers): Promise<ShardPool> {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL.words * 4));
  const local: TrainingShard = createTrainingShard(buffers, 0);
  const { script, eval: isEval } = workerScript(import.meta.url, 'shard-worker');
  const workers: Worker[] = [];
  // Each worker reports a failure on its own port, read synchronously (the trainer never yields).
  const errorPorts: MessagePort[] = [];
  for (let shard = 1; shard < buffers.shards; shard++) {
    const { port1, port2 } = new MessageChannel();
    errorPorts.push(port1);
    workers.push(
      new Worker(script, {
        eval: isEval,
        workerData: { buffers, shard, control, errorPort: port2 },
        transferList: [port2],
      }),
    );
  }
  // Wait until every worker is parked on the control word: the trainer then blocks in Atomics.wait,
  // when no event (not even a worker's start-up error) could reach it any more.
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`training worker exited with code ${code}`)));
        }),
    ),
  );
  for (const w of workers) w.removeAllListeners();

  function run(step: Step, work: () => void, out: Float64Array | undefined): void {
    Atomics.store(control, CONTROL.done, 0);
    Atomics.store(control, CONTROL.step, step);
    Atomics.add(control, CONTROL.sequence, 1);
    Atomics.notify(control, CONTROL.sequence);
    work();
    for (;;) {
      const done = Atomics.load(control, CONTROL.done);
      if (done === workers.length) break;
      waitFor(control, CONTROL.done, done);
    }
    if (Atomics.load(control, CONTROL.failed) !== 0) {
      const message = errorPorts.map((p) => receiveMessageOnPort(p)?.message).find(Boolean) as
        | string
        | undefined;
      throw new Error(`training worker failed: ${message ?? 'unknown error'}`);
    }
    if (!out) return;
    out.set(buffers.outs[0]!);
    for (let s = 1; s < buffers.shards; s++) {
      const part = buffers.outs[s]!;
      for (let i = 0; i < out.length; i++) out[i]! += part[i]!;
    }
  }

  return {
    beginRound(args, out) {
      encodeRound(control, args);
      run(Step.Round, () => local.beginRound(args), out);
    },
    split(args, out) {
      encodeSplit(control, args);
      run(Step.Split, () => local.split(args), out);
    },
    async close() {
      Atomics.store(control, CONTROL.step, Step.Stop);
      Atomics.add(control, CONTROL.sequence, 1);
      Atomics.notify(control, CONTROL.sequence);
      for (const p of errorPorts) p.close();
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
