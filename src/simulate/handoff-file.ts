/**
 * The hand-off between the two simulators when they run as separate processes: the predictions simulator
 * appends one JSON line per served prediction (`{"prediction_id","user_id","churn","sent_at","scenario"}`)
 * and a last `{"done":true}` line; the feedback simulator follows the file (as `tail -f` does) and stops
 * at that line. `sent_at` is epoch ms, so labels keep their delay even when read late.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { cliCommand } from '../cli-command.js';
import { ChurnwatchError } from '../errors.js';
import { sleep } from './api-client.js';
import type { SentPrediction } from './predictions.js';

export interface HandoffWriter {
  write(sent: readonly SentPrediction[]): void;
  /** Writes the end marker and closes the file. */
  close(summary?: Record<string, unknown>): Promise<void>;
}

/** Creates (truncates) the hand-off file. */
export async function createHandoffWriter(path: string): Promise<HandoffWriter> {
  await mkdir(dirname(path), { recursive: true });
  const stream: WriteStream = createWriteStream(path, { flags: 'w' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) =>
      reject(
        new ChurnwatchError('CW_SIM_HANDOFF', `cannot write the hand-off file ${path}: ${error.message}`, {
          hint: 'choose a writable --handoff path',
          cause: error,
        }),
      ),
    );
  });
  return {
    write(sent) {
      let text = '';
      for (const s of sent) {
        text += `${JSON.stringify({
          prediction_id: s.predictionId,
          user_id: s.userId,
          churn: s.label,
          sent_at: s.sentAt,
          scenario: s.scenario,
        })}\n`;
      }
      stream.write(text);
    },
    close(summary = {}) {
      return new Promise<void>((resolve, reject) => {
        stream.end(`${JSON.stringify({ done: true, ...summary })}\n`, () => resolve());
        stream.once('error', reject);
      });
    },
  };
}

/** Parses one hand-off line; `done` for the end marker. Throws CW_SIM_HANDOFF naming the line. */
export function parseHandoffLine(line: string, where: string): SentPrediction | 'done' {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new ChurnwatchError('CW_SIM_HANDOFF', `${where}: not a JSON line`, {
      hint: `the hand-off file is written by ${cliCommand('simulate predictions')}; do not edit it`,
    });
  }
  if (value.done === true) return 'done';
  const { prediction_id, user_id, churn, sent_at, scenario } = value;
  if (
    typeof prediction_id !== 'string' ||
    typeof user_id !== 'string' ||
    !(churn === 0 || churn === 1 || churn === null) ||
    typeof sent_at !== 'number'
  ) {
    throw new ChurnwatchError(
      'CW_SIM_HANDOFF',
      `${where}: expected prediction_id, user_id, churn (0, 1 or null) and sent_at`,
      {
        hint: `the hand-off file is written by ${cliCommand('simulate predictions')}; do not edit it`,
      },
    );
  }
  return {
    predictionId: prediction_id,
    userId: user_id,
    label: churn,
    sentAt: sent_at,
    scenario: typeof scenario === 'string' ? scenario : 'unknown',
  };
}

/**
 * Follows the hand-off file, calling `onLines` with each batch of new predictions, until the end marker
 * or `signal`. Waits for the file to appear; a file that shrinks (a new predictions run) is read again
 * from the start. Polls every `pollMs`.
 */
export async function followHandoff(
  path: string,
  onLines: (sent: SentPrediction[]) => void,
  options: { signal?: AbortSignal; pollMs?: number; onWaiting?: () => void } = {},
): Promise<'done' | 'signal'> {
  const pollMs = options.pollMs ?? 250;
  let offset = 0;
  let lineNo = 0;
  let rest = '';
  let warned = false;
  while (!options.signal?.aborted) {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (!warned) options.onWaiting?.();
      warned = true;
      if (!(await sleep(pollMs, options.signal))) break;
      continue;
    }
    try {
      const { size } = await handle.stat();
      if (size < offset) {
        offset = 0;
        lineNo = 0;
        rest = '';
      }
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
        offset += bytesRead;
        const text = rest + buf.subarray(0, bytesRead).toString('utf8');
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        const batch: SentPrediction[] = [];
        for (const line of lines) {
          lineNo++;
          if (line.trim() === '') continue;
          const parsed = parseHandoffLine(line, `${path} line ${lineNo}`);
          if (parsed === 'done') {
            onLines(batch);
            return 'done';
          }
          batch.push(parsed);
        }
        if (batch.length > 0) onLines(batch);
      }
    } finally {
      await handle.close();
    }
    if (!(await sleep(pollMs, options.signal))) break;
  }
  return 'signal';
}
