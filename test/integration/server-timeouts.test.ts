/**
 * Request timeouts over real sockets: a body sent one byte at a time, or headers that never end, are
 * cut off with 408 within the configured timeout and counted in churnwatch_http_request_timeouts_total,
 * while other connections are answered meanwhile.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/model/model-io.js';
import { openStore } from '../../src/store/open-store.js';
import { buildTestApp, customerRequests, parseMetrics } from '../helpers/server-harness.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const REQUEST_TIMEOUT_MS = 500;
/** Node checks the timeouts periodically (here every 125 ms); the rest is scheduling on a busy CI host. */
const MARGIN_MS = 1000;

/**
 * Opens a raw connection, writes `head`, then one byte of `drip` every 50 ms until the server answers;
 * resolves with what the server sent and when it closed the connection (ms after the first byte).
 */
function slowClient(port: number, head: string, drip: (i: number) => string) {
  return new Promise<{ answer: string; closedAfterMs: number; sentBytes: number }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sentBytes = 0;
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      socket.write(head);
      let i = 0;
      timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write(drip(i++));
        sentBytes++;
      }, 50);
    });
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    // The server may reset the connection while bytes are still in flight; what it answered counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: performance.now() - started, sentBytes });
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 10 s; got ${JSON.stringify(answer)}`));
    }, 10_000).unref();
  });
}

describe('request timeouts', () => {
  it('cuts off a slow body and slow headers with 408, counts them, and answers others meanwhile', () =>
    withTempDir(async (dir) => {
      const models = await trainSmallModel();
      const store = openStore(`sqlite:${join(dir, 'timeouts.db')}`);
      await store.migrate();
      const app = await buildTestApp({
        store,
        model: await loadModel(join(models, 'latest')),
        config: { requestTimeout: REQUEST_TIMEOUT_MS },
      });
      try {
        const base = await app.listen({ port: 0, host: '127.0.0.1' });
        const port = Number(new URL(base).port);
        const body = JSON.stringify(customerRequests(1, 9)[0]);

        // A chunked body, one byte per chunk every 50 ms: it would take seconds to finish.
        const slowBody = slowClient(
          port,
          'POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
          (i) => `1\r\n${body[i % body.length]}\r\n`,
        );
        // Meanwhile, on other connections, normal requests are answered.
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${base}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          assert.equal(res.status, 200, await res.text());
          await new Promise((r) => setTimeout(r, 100));
        }
        const cut = await slowBody;
        assert.match(cut.answer, /^HTTP\/1\.1 408 /, cut.answer);
        assert.ok(cut.sentBytes > 3, `the client was still sending (${cut.sentBytes} chunks)`);
        assert.ok(
          cut.closedAfterMs >= REQUEST_TIMEOUT_MS - 50 && cut.closedAfterMs < REQUEST_TIMEOUT_MS + MARGIN_MS,
          `closed after ${cut.closedAfterMs.toFixed(0)} ms (timeout ${REQUEST_TIMEOUT_MS} ms)`,
        );

        // Headers that never end: one header byte every 50 ms (slowloris).
        const slowHeaders = await slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', () => 'x');
        assert.match(slowHeaders.answer, /^HTTP\/1\.1 408 /, slowHeaders.answer);
        assert.ok(slowHeaders.closedAfterMs < REQUEST_TIMEOUT_MS + MARGIN_MS);

        const metrics = parseMetrics(await (await fetch(`${base}/metrics`)).text());
        assert.equal(metrics.get('churnwatch_http_request_timeouts_total'), 2);
        assert.equal((await fetch(`${base}/healthz`)).status, 200, 'still serving');
      } finally {
        await app.close();
        await store.close();
      }
    }));
});
