/**
 * Writes a file so that readers see either the old file or the complete new one: the bytes go to a
 * temporary file beside the target, which is renamed over it only after the writer finished. On any
 * failure the temporary file is removed and the target is untouched.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A line-oriented writer with backpressure: buffers text and awaits 'drain' when the stream asks. */
export interface TextSink {
  write(text: string): Promise<void>;
  writeBytes(bytes: Uint8Array): Promise<void>;
  readonly bytesWritten: () => number;
  /** Writes out buffered text (the atomic writer calls it before closing). */
  flush(): Promise<void>;
}

let counter = 0;

/** The temporary path used for `path` (same directory, so the rename is atomic). */
export function temporaryPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.partial`);
}

function sinkFor(stream: WriteStream): TextSink {
  let pending = '';
  let bytes = 0;
  const push = (chunk: string | Uint8Array): Promise<void> => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (stream.write(chunk)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        stream.off('drain', onDrain);
        reject(error);
      };
      const onDrain = () => {
        stream.off('error', onError);
        resolve();
      };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  };
  return {
    // Small strings are gathered into ~1 MB writes: one syscall per megabyte, not per line.
    async write(text) {
      pending += text;
      if (pending.length >= 1 << 20) {
        const out = pending;
        pending = '';
        await push(out);
      }
    },
    async writeBytes(chunk) {
      if (pending.length > 0) {
        const out = pending;
        pending = '';
        await push(out);
      }
      await push(chunk);
    },
    bytesWritten: () => bytes + Buffer.byteLength(pending),
    flush: async () => {
      if (pending.length > 0) {
        const out = pending;
        pending = '';
        await push(out);
      }
    },
  };
}

/**
 * Runs `fill` with a sink on a temporary file, then renames the file to `path`. Creates the directory.
 * Returns what `fill` returned. Throws what `fill` or the file system threw, after cleaning up.
 */
export async function writeFileAtomically<T>(path: string, fill: (sink: TextSink) => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const temp = temporaryPathFor(path);
  const stream = createWriteStream(temp);
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
    const sink = sinkFor(stream);
    const result = await fill(sink);
    await sink.flush();
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(() => resolve());
    });
    await rename(temp, path);
    return result;
  } catch (error) {
    stream.destroy();
    await rm(temp, { force: true });
    throw error;
  }
}
