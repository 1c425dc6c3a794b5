/**
 * Fetches the real Expresso Train.csv: from Kaggle (a zip), any URL, a local .zip or a local .csv. The
 * body streams to a temporary file (never into memory), a zip is unpacked by streaming its train.csv
 * entry, the CSV header is checked, and the result is renamed to `<dest>/train.csv` atomically.
 *
 * No network I/O of its own: the caller injects `fetch` (the CLI passes the global one, tests a local
 * server's). Redirects are followed by hand so the Authorization header goes only to the host it was
 * meant for — Kaggle answers with a redirect to a storage host that must not see the credentials.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { cliCommand } from '../cli-command.js';
import { ChurnwatchError, type ErrorCode } from '../errors.js';
import { temporaryPathFor } from './atomic-file.js';
import { CSV_HEADER } from './customer-schema.js';

export const KAGGLE_DATASET_URL =
  'https://www.kaggle.com/api/v1/datasets/download/hamzaghanmi/expresso-churn-prediction-challenge';

export interface DownloadCredentials {
  username: string;
  key: string;
}

export interface DownloadOptions {
  /** A http(s) URL, a local .zip or a local .csv. */
  source: string;
  /** Directory that receives train.csv. */
  destDir: string;
  /** The fetch to use for URLs (injected: this module does no network I/O of its own). */
  fetch?: typeof fetch;
  /** Basic auth for the source's host (Kaggle username + API key). */
  credentials?: DownloadCredentials;
  onProgress?: (bytes: number, totalBytes: number | undefined) => void;
  /** Redirects to follow before giving up (default 10). */
  maxRedirects?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  source: string;
  /** The zip entry the CSV came from, when the source was a zip. */
  zipEntry?: string;
}

const OFFLINE = `or run ${cliCommand('data generate --rows 100000')} for a synthetic data/train.csv that needs no download (without --rows it writes as many rows as the real file, 2,154,048, about 232 MB)`;

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

function fail(code: ErrorCode, message: string, hint: string, cause?: unknown): ChurnwatchError {
  return new ChurnwatchError(code, message, {
    hint: `${hint}; ${OFFLINE}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** GETs `url`, following redirects by hand; credentials only to the original host. */
async function fetchFollowing(options: DownloadOptions, url: string): Promise<Response> {
  const doFetch = options.fetch;
  if (!doFetch) throw new TypeError('downloadTrainCsv needs options.fetch for a URL source');
  const origin = new URL(url);
  let current = origin;
  const max = options.maxRedirects ?? 10;
  for (let hop = 0; hop <= max; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'churnwatch' };
    if (options.credentials && current.host === origin.host && current.protocol === origin.protocol) {
      const token = Buffer.from(`${options.credentials.username}:${options.credentials.key}`).toString(
        'base64',
      );
      headers.authorization = `Basic ${token}`;
    }
    let response: Response;
    try {
      response = await doFetch(current, { redirect: 'manual', headers });
    } catch (error) {
      throw fail(
        'CW_DATA_DOWNLOAD_UNREACHABLE',
        `cannot reach ${current.host} (${(error as Error).cause ? String((error as Error & { cause: unknown }).cause) : (error as Error).message})`,
        'check the network connection or proxy, or download the file by hand and pass it with --from FILE',
        error,
      );
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current);
      continue;
    }
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      await response.body?.cancel();
      const why =
        response.status === 404
          ? 'not found'
          : response.status === 401
            ? 'refused: not authenticated'
            : 'refused: forbidden';
      throw fail(
        'CW_DATA_DOWNLOAD_REFUSED',
        `${current.href} answered HTTP ${response.status} (${why})`,
        options.credentials
          ? 'check KAGGLE_USERNAME / KAGGLE_KEY (or ~/.kaggle/kaggle.json) and that you accepted the dataset terms on kaggle.com, or pass a local copy with --from FILE'
          : 'Kaggle needs an API token: set KAGGLE_USERNAME and KAGGLE_KEY or create ~/.kaggle/kaggle.json (kaggle.com → Settings → API), or pass a local copy with --from FILE',
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw fail(
        'CW_DATA_DOWNLOAD_FAILED',
        `${current.href} answered HTTP ${response.status}`,
        'retry later, or pass a local copy with --from FILE',
      );
    }
    return response;
  }
  throw fail('CW_DATA_DOWNLOAD_FAILED', `${url}: more than ${max} redirects`, 'check the URL');
}

/** Streams a response body to `path`, checking the byte count against Content-Length. */
async function saveBody(options: DownloadOptions, response: Response, path: string): Promise<number> {
  const lengthHeader = response.headers.get('content-length');
  const expected = lengthHeader === null ? undefined : Number(lengthHeader);
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      options.onProgress?.(bytes, expected);
      done(null, chunk);
    },
  });
  if (!response.body)
    throw fail('CW_DATA_DOWNLOAD_TRUNCATED', `${response.url}: empty response`, 'retry the download');
  try {
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
      counter,
      createWriteStream(path),
    );
  } catch (error) {
    throw fail(
      'CW_DATA_DOWNLOAD_TRUNCATED',
      `the download from ${response.url || options.source} broke off after ${bytes} bytes${expected ? ` of ${expected}` : ''}`,
      'retry the download (the connection dropped)',
      error,
    );
  }
  if (expected !== undefined && bytes !== expected) {
    throw fail(
      'CW_DATA_DOWNLOAD_TRUNCATED',
      `the download from ${response.url || options.source} has ${bytes} bytes, Content-Length said ${expected}`,
      'retry the download (the connection dropped)',
    );
  }
  return bytes;
}

async function startsWithZipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.readUInt32LE(0) === 0x04034b50;
  } finally {
    await handle.close();
  }
}

/** Streams the zip's train.csv entry (any folder, any case) to `out`; returns the entry name. */
function extractTrainCsv(zipPath: string, out: string, label: string): Promise<string> {
  const broken = (error: unknown) =>
    fail(
      'CW_DATA_DOWNLOAD_BROKEN_ZIP',
      `${label} is not a readable zip (${(error as Error).message})`,
      'retry the download; the file may be truncated',
      error,
    );
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, autoClose: true }, (openError, zip) => {
      if (openError || !zip) return reject(broken(openError));
      const names: string[] = [];
      let found = false;
      zip.on('error', (error) => reject(broken(error)));
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        if (found || basename(entry.fileName).toLowerCase() !== 'train.csv') return zip.readEntry();
        found = true;
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(broken(streamError));
          pipeline(stream, createWriteStream(out)).then(
            () => {
              zip.close();
              resolve(entry.fileName);
            },
            (error) => reject(broken(error)),
          );
        });
      });
      zip.on('end', () => {
        if (!found) {
          reject(
            fail(
              'CW_DATA_DOWNLOAD_NO_TRAIN_CSV',
              `${label} has no train.csv entry (entries: ${names.slice(0, 10).join(', ') || 'none'})`,
              'pass the Expresso Churn zip or its Train.csv with --from',
            ),
          );
        }
      });
      zip.readEntry();
    });
  });
}

/** Checks that the first line is the Train.csv header (with CHURN: this is training data). */
async function checkHeader(path: string, label: string): Promise<void> {
  const handle = await open(path, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    head = buf.toString('utf8', 0, bytesRead);
  } finally {
    await handle.close();
  }
  const firstLine = (head.split('\n')[0] ?? '').replace(/^\uFEFF/, '').replace(/\r$/, '');
  const expected = CSV_HEADER.join(',');
  if (firstLine !== expected) {
    throw fail(
      'CW_DATA_DOWNLOAD_BAD_CSV',
      `${label} is not the Expresso Train.csv: its first line is ${JSON.stringify(firstLine.slice(0, 200))}, expected ${expected}`,
      'check the source: it must be the Expresso Churn Prediction Challenge Train.csv (or a zip holding it)',
    );
  }
}

/**
 * Fetches or copies Train.csv into `<destDir>/train.csv`. Throws ChurnwatchError
 * CW_DATA_DOWNLOAD_{REFUSED,UNREACHABLE,FAILED,TRUNCATED,BROKEN_ZIP,NO_TRAIN_CSV,BAD_CSV,NOT_FOUND}
 * saying what failed and what to do; the destination is untouched on failure.
 */
export async function downloadTrainCsv(options: DownloadOptions): Promise<DownloadResult> {
  await mkdir(options.destDir, { recursive: true });
  const dest = join(options.destDir, 'train.csv');
  const fetched = temporaryPathFor(join(options.destDir, 'download'));
  const extracted = temporaryPathFor(dest);
  try {
    let raw: string;
    if (isUrl(options.source)) {
      const response = await fetchFollowing(options, options.source);
      await saveBody(options, response, fetched);
      raw = fetched;
    } else {
      try {
        await stat(options.source);
      } catch (error) {
        throw fail(
          'CW_DATA_DOWNLOAD_NOT_FOUND',
          `${options.source}: no such file`,
          'check the --from path',
          error,
        );
      }
      raw = options.source;
    }
    let zipEntry: string | undefined;
    if (await startsWithZipMagic(raw)) {
      zipEntry = await extractTrainCsv(raw, extracted, options.source);
    } else {
      await pipeline(createReadStream(raw), createWriteStream(extracted));
    }
    await checkHeader(extracted, zipEntry ? `${options.source} → ${zipEntry}` : options.source);
    await rename(extracted, dest);
    const result: DownloadResult = { path: dest, bytes: (await stat(dest)).size, source: options.source };
    if (zipEntry) result.zipEntry = zipEntry;
    return result;
  } finally {
    await rm(fetched, { force: true });
    await rm(extracted, { force: true });
  }
}
