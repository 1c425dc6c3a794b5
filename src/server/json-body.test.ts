import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { installJsonBodyParser, mayPoisonPrototype } from './json-body.js';

describe('JSON body parser', () => {
  it('sends only texts that may hold a __proto__ or constructor key to the careful parser', () => {
    assert.equal(mayPoisonPrototype('{"records":[{"MONTANT":1,"REGION":"DAKAR"}]}'), false);
    assert.equal(mayPoisonPrototype('{"__proto__":{}}'), true);
    assert.equal(mayPoisonPrototype('{"constructor":{"prototype":{}}}'), true);
    assert.equal(mayPoisonPrototype('{"\\u005f_proto__":{}}'), true);
    assert.equal(mayPoisonPrototype('{"user_id":"caf\\u00e9"}'), true, 'any escape: parsed carefully');
  });

  it('parses both paths to the same values and refuses poisoning either way', async () => {
    const app = Fastify();
    installJsonBodyParser(app);
    app.post('/echo', async (request) => ({ body: request.body }));
    const post = (payload: string) =>
      app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
    for (const text of [
      '{"a":[1,2.5,null,"x"]}',
      // "constructor" as a value, and an escape: the careful path, same result.
      '{"user_id":"constructor","b":"caf\\u00e9"}',
    ]) {
      const res = await post(text);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().body, JSON.parse(text));
    }
    for (const text of ['{"__proto__":{"x":1}}', '{"\\u0063onstructor":{"prototype":{}}}', '{"a":', '']) {
      const res = await post(text);
      assert.equal(res.statusCode, 400, text);
      assert.match(res.json().code, /^FST_ERR_CTP_(INVALID|EMPTY)_JSON_BODY$/);
    }
    await app.close();
  });
});
