import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import yazl from 'yazl';
import { kaggleCredentials } from '../../src/cli/commands/data.js';
import { CSV_HEADER } from '../../src/data/customer-schema.js';
import { downloadTrainCsv } from '../../src/data/download.js';
import { isChurnwatchError } from '../../src/errors.js';
import { freePort } from '../helpers/free-port.js';
import { withTempDir } from '../helpers/temp-dir.js';

const CSV = `${CSV_HEADER.join(',')}\n00000cb4a5d760de88fecb38e2f71b7bec52e834,,I 18-21 month,,,,,,,,,,,,NO,4,,,1\n`;

function zipOf(entries: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name);
  zip.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    zip.outputStream.on('data', (d: Buffer) => parts.push(d));
    zip.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    zip.outputStream.on('error', reject);
  });
}

const code = (c: string, pattern?: RegExp) => (error: unknown) => {
  assert.ok(isChurnwatchError(error), `expected a ChurnwatchError, got ${String(error)}`);
  assert.equal(error.code, c);
  if (pattern) assert.match(`${error.message} ${error.hint}`, pattern);
  assert.match(error.hint ?? '', /churnwatch data generate/);
  return true;
};

describe('downloadTrainCsv against a local HTTP server', () => {
  let server: Server;
  let port: number;
  let zip: Buffer;
  const seenAuth = new Map<string, string | undefined>();

  before(async () => {
    zip = await zipOf({ 'README.md': 'hello', 'expresso/Train.csv': CSV, 'expresso/Test.csv': 'x' });
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seenAuth.set(`${req.headers.host?.split(':')[0]}${path}`, req.headers.authorization);
      if (path === '/api/download') {
        // Like Kaggle: redirect to a storage host (here: same server under another host name).
        res.writeHead(302, { location: `http://localhost:${port}/storage/archive.zip` });
        res.end();
      } else if (path === '/storage/archive.zip') {
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length });
        res.end(zip);
      } else if (path === '/denied') {
        res.writeHead(401);
        res.end('unauthorized');
      } else if (path === '/truncated.zip') {
        res.writeHead(200, { 'content-length': zip.length });
        res.write(zip.subarray(0, zip.length >> 1));
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (path === '/broken.zip') {
        const broken = zip.subarray(0, zip.length - 30);
        res.writeHead(200, { 'content-length': broken.length });
        res.end(broken);
      } else if (path === '/plain.csv') {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.end(CSV);
      } else if (path === '/other.csv') {
        res.writeHead(200);
        res.end('a,b\n1,2\n');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('follows the redirect, sends credentials only to the original host, and unpacks train.csv', async () => {
    await withTempDir(async (dir) => {
      const result = await downloadTrainCsv({
        source: `http://127.0.0.1:${port}/api/download`,
        destDir: join(dir, 'data'),
        fetch,
        credentials: { username: 'ana', key: 's3cret' },
      });
      assert.equal(result.zipEntry, 'expresso/Train.csv');
      assert.equal(await readFile(join(dir, 'data', 'train.csv'), 'utf8'), CSV);
      assert.equal(
        seenAuth.get('127.0.0.1/api/download'),
        `Basic ${Buffer.from('ana:s3cret').toString('base64')}`,
      );
      assert.equal(seenAuth.get('localhost/storage/archive.zip'), undefined);
    });
  });

  it('takes a plain CSV from a URL and a local .zip or .csv', async () => {
    await withTempDir(async (dir) => {
      await downloadTrainCsv({
        source: `http://127.0.0.1:${port}/plain.csv`,
        destDir: join(dir, 'a'),
        fetch,
      });
      assert.equal(await readFile(join(dir, 'a', 'train.csv'), 'utf8'), CSV);
      await writeFile(join(dir, 'local.zip'), zip);
      await downloadTrainCsv({ source: join(dir, 'local.zip'), destDir: join(dir, 'b') });
      assert.equal(await readFile(join(dir, 'b', 'train.csv'), 'utf8'), CSV);
      await writeFile(join(dir, 'Train.csv'), CSV);
      await downloadTrainCsv({ source: join(dir, 'Train.csv'), destDir: join(dir, 'c') });
      assert.equal(await readFile(join(dir, 'c', 'train.csv'), 'utf8'), CSV);
    });
  });

  it('explains a 401, a 404, a truncated body, a broken zip, a wrong CSV and an unreachable host', async () => {
    await withTempDir(async (dir) => {
      const dest = join(dir, 'data');
      const get = (path: string) =>
        downloadTrainCsv({ source: `http://127.0.0.1:${port}${path}`, destDir: dest, fetch });
      await assert.rejects(get('/denied'), code('CW_DATA_DOWNLOAD_REFUSED', /401.*KAGGLE_USERNAME/s));
      await assert.rejects(get('/missing'), code('CW_DATA_DOWNLOAD_REFUSED', /404/));
      await assert.rejects(
        get('/truncated.zip'),
        code('CW_DATA_DOWNLOAD_TRUNCATED', /broke off|Content-Length/),
      );
      await assert.rejects(get('/broken.zip'), code('CW_DATA_DOWNLOAD_BROKEN_ZIP'));
      await assert.rejects(get('/other.csv'), code('CW_DATA_DOWNLOAD_BAD_CSV', /"a,b"/));
      const closed = await freePort();
      await assert.rejects(
        downloadTrainCsv({ source: `http://127.0.0.1:${closed}/x.zip`, destDir: dest, fetch }),
        code('CW_DATA_DOWNLOAD_UNREACHABLE', /--from/),
      );
      await assert.rejects(
        downloadTrainCsv({ source: join(dir, 'nope.zip'), destDir: dest }),
        code('CW_DATA_DOWNLOAD_NOT_FOUND'),
      );
      // Nothing half-written is left behind.
      await assert.rejects(readFile(join(dest, 'train.csv')), { code: 'ENOENT' });
    });
  });
});

describe('kaggleCredentials', () => {
  it('reads KAGGLE_USERNAME/KAGGLE_KEY first, then kaggle.json, and rejects a bad token file', async () => {
    await withTempDir(async (dir) => {
      assert.deepEqual(await kaggleCredentials({ KAGGLE_USERNAME: 'u', KAGGLE_KEY: 'k', HOME: dir }), {
        username: 'u',
        key: 'k',
      });
      assert.equal(await kaggleCredentials({ HOME: dir }), undefined);
      await mkdir(join(dir, '.kaggle'));
      await writeFile(join(dir, '.kaggle', 'kaggle.json'), JSON.stringify({ username: 'ana', key: 'abc' }));
      assert.deepEqual(await kaggleCredentials({ HOME: dir }), { username: 'ana', key: 'abc' });
      await writeFile(join(dir, '.kaggle', 'kaggle.json'), '{oops');
      await assert.rejects(
        kaggleCredentials({ HOME: dir }),
        (e: unknown) => isChurnwatchError(e) && e.code === 'CW_DATA_KAGGLE_CONFIG',
      );
    });
  });
});
