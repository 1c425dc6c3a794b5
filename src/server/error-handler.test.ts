import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { sendError } from '../http/error-reply.js';
import { HttpError, installErrorHandler } from './error-handler.js';

async function app() {
  const a = Fastify({ logger: false });
  installErrorHandler(a);
  a.get('/thrown', async () => {
    throw new HttpError(422, 'CW_RELOAD_FAILED', 'cannot load', { 'x-why': 'test' });
  });
  a.get('/sent', async (_request, reply) => sendError(reply, 503, 'CW_NOT_READY', 'no model is loaded'));
  a.get('/bug', async () => {
    throw new Error('secret internals');
  });
  a.get('/uncoded', async () => {
    throw Object.assign(new Error('teapot'), { statusCode: 418 });
  });
  await a.ready();
  return a;
}

describe('error answers', () => {
  it('all have Fastify’s body shape, however the route answered', async () => {
    const a = await app();
    try {
      const cases = [
        ['/thrown', 422, 'CW_RELOAD_FAILED', 'Unprocessable Entity', 'cannot load'],
        ['/sent', 503, 'CW_NOT_READY', 'Service Unavailable', 'no model is loaded'],
        [
          '/bug',
          500,
          'CW_INTERNAL',
          'Internal Server Error',
          'internal error; the server log has the details',
        ],
        ['/uncoded', 418, 'CW_BAD_REQUEST', 'Error', 'teapot'],
        ['/nowhere?x=1', 404, 'CW_NOT_FOUND', 'Not Found', 'no route GET /nowhere'],
      ] as const;
      for (const [url, statusCode, code, error, message] of cases) {
        const res = await a.inject({ method: 'GET', url });
        assert.equal(res.statusCode, statusCode, url);
        assert.deepEqual(res.json(), { statusCode, code, error, message }, url);
      }
      assert.equal((await a.inject({ method: 'GET', url: '/thrown' })).headers['x-why'], 'test');
    } finally {
      await a.close();
    }
  });
});
