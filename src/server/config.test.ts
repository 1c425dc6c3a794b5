import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isChurnwatchError } from '../errors.js';
import { DEFAULT_POOL_SIZE } from '../store/postgres/postgres-store.js';
import { DEFAULT_SERVE_CONFIG, headersTimeoutOf, resolveServeConfig } from './config.js';

const refusal = (pattern: RegExp) => (error: unknown) =>
  isChurnwatchError(error) && error.code === 'CW_SERVE_BAD_OPTION' && pattern.test(error.message);

describe('serve configuration', () => {
  it('merges defaults < environment < flags', () => {
    const config = resolveServeConfig(
      { port: '9000' },
      { CHURNWATCH_PORT: '8500', CHURNWATCH_MAX_QUEUE: '4000', CHURNWATCH_BODY_LIMIT: '512kb' },
    );
    assert.equal(config.port, 9000);
    assert.equal(config.maxQueue, 4000);
    assert.equal(config.bodyLimit, 512 * 1024);
    assert.equal(config.maxWriteBatch, DEFAULT_SERVE_CONFIG.maxWriteBatch);
    assert.equal(resolveServeConfig({}, { CHURNWATCH_STORE_POOL_SIZE: '4' }).storePoolSize, 4);
    assert.equal(resolveServeConfig({ storePoolSize: '3' }, {}).storePoolSize, 3);
    // Unset, serve opens the store with the store's own default pool.
    assert.equal(resolveServeConfig({}, {}).storePoolSize, DEFAULT_POOL_SIZE);
  });

  it('reads the request and keep-alive timeouts as durations from flags or the environment', () => {
    assert.equal(DEFAULT_SERVE_CONFIG.requestTimeout, 30_000);
    assert.equal(DEFAULT_SERVE_CONFIG.keepAliveTimeout, 72_000);
    assert.equal(DEFAULT_SERVE_CONFIG.shutdownTimeout, 10_000);
    const fromEnv = resolveServeConfig(
      {},
      { CHURNWATCH_REQUEST_TIMEOUT: '1m', CHURNWATCH_KEEP_ALIVE_TIMEOUT: '5s' },
    );
    assert.equal(fromEnv.requestTimeout, 60_000);
    assert.equal(fromEnv.keepAliveTimeout, 5000);
    const fromFlags = resolveServeConfig(
      { requestTimeout: '2.5s', keepAliveTimeout: '90s' },
      { CHURNWATCH_REQUEST_TIMEOUT: '1m' },
    );
    assert.equal(fromFlags.requestTimeout, 2500);
    assert.equal(fromFlags.keepAliveTimeout, 90_000);
    assert.equal(resolveServeConfig({ shutdownTimeout: '0.25s' }).shutdownTimeout, 250);
    assert.throws(
      () => resolveServeConfig({ shutdownTimeout: '0.05s' }),
      /--shutdown-timeout must be a duration from 0.1s to 1h/,
    );
    // The headers timeout follows the request timeout, capped at 10 s.
    assert.equal(headersTimeoutOf(DEFAULT_SERVE_CONFIG), 10_000);
    assert.equal(headersTimeoutOf(fromFlags), 2500);
  });

  it('refuses timeouts that are not durations from 1s to 1h, naming the flag or variable', () => {
    assert.throws(
      () => resolveServeConfig({ requestTimeout: '30' }),
      refusal(/^--request-timeout must be a duration such as 90s.*got "30"/),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_KEEP_ALIVE_TIMEOUT: 'forever' }),
      refusal(/^CHURNWATCH_KEEP_ALIVE_TIMEOUT must be a duration such as 90s.*got "forever"/),
    );
    assert.throws(
      () => resolveServeConfig({ requestTimeout: '0s' }),
      refusal(/^--request-timeout must be a duration/),
    );
    assert.throws(
      () => resolveServeConfig({ requestTimeout: '0.5s' }),
      refusal(/^--request-timeout must be a duration from 1s to 1h, got "0.5s"/),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_KEEP_ALIVE_TIMEOUT: '2h' }),
      refusal(/^CHURNWATCH_KEEP_ALIVE_TIMEOUT must be a duration from 1s to 1h, got "2h"/),
    );
  });

  it('reads the ack mode and the commit timeout from flags or the environment, refusing others', () => {
    assert.equal(DEFAULT_SERVE_CONFIG.ack, 'queued');
    assert.equal(DEFAULT_SERVE_CONFIG.commitTimeout, 5000);
    const fromEnv = resolveServeConfig({}, { CHURNWATCH_ACK: 'commit', CHURNWATCH_COMMIT_TIMEOUT: '0.5s' });
    assert.equal(fromEnv.ack, 'commit');
    assert.equal(fromEnv.commitTimeout, 500);
    const fromFlags = resolveServeConfig(
      { ack: 'queued', commitTimeout: '1m' },
      { CHURNWATCH_ACK: 'commit' },
    );
    assert.equal(fromFlags.ack, 'queued');
    assert.equal(fromFlags.commitTimeout, 60_000);
    assert.throws(
      () => resolveServeConfig({ ack: 'fsync' }),
      refusal(/^--ack must be one of queued, commit, got "fsync"$/),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_COMMIT_TIMEOUT: '0.05s' }),
      refusal(/^CHURNWATCH_COMMIT_TIMEOUT must be a duration from 0.1s to 1h, got "0.05s"/),
    );
  });

  it('reads the pending feedback cap and time to live from flags or the environment', () => {
    assert.equal(DEFAULT_SERVE_CONFIG.pendingFeedbackMax, 100_000);
    assert.equal(DEFAULT_SERVE_CONFIG.pendingFeedbackTtl, 7 * 86_400_000);
    const fromEnv = resolveServeConfig(
      {},
      { CHURNWATCH_PENDING_FEEDBACK_MAX: '5000', CHURNWATCH_PENDING_FEEDBACK_TTL: '12h' },
    );
    assert.equal(fromEnv.pendingFeedbackMax, 5000);
    assert.equal(fromEnv.pendingFeedbackTtl, 43_200_000);
    assert.equal(resolveServeConfig({ pendingFeedbackTtl: '2w' }).pendingFeedbackTtl, 14 * 86_400_000);
    assert.throws(
      () => resolveServeConfig({ pendingFeedbackTtl: '7' }),
      refusal(/^--pending-feedback-ttl must be a duration such as 90s.*got "7"/),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_PENDING_FEEDBACK_MAX: '-1' }),
      refusal(/^CHURNWATCH_PENDING_FEEDBACK_MAX/),
    );
  });

  it('reads the retention span from a flag or the environment; unset keeps predictions forever', () => {
    assert.equal(DEFAULT_SERVE_CONFIG.retention, undefined);
    assert.equal(resolveServeConfig({}, {}).retention, undefined);
    assert.equal(resolveServeConfig({}, { CHURNWATCH_RETENTION: '30d' }).retention, 30 * 86_400_000);
    assert.equal(
      resolveServeConfig({ retention: '12h' }, { CHURNWATCH_RETENTION: '30d' }).retention,
      43_200_000,
    );
    assert.equal(resolveServeConfig({ retention: '1m' }).retention, 60_000);
    assert.throws(
      () => resolveServeConfig({ retention: '30s' }),
      refusal(/^--retention must be a duration of at least 1m, got "30s"/),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_RETENTION: '30' }),
      refusal(/^CHURNWATCH_RETENTION must be a duration such as 90s.*got "30"/),
    );
  });

  it('keeps the default batch limit within the default queue', () => {
    assert.ok(DEFAULT_SERVE_CONFIG.batchLimit <= DEFAULT_SERVE_CONFIG.maxQueue);
    assert.doesNotThrow(() => resolveServeConfig({}, {}));
  });

  it('refuses a batch limit larger than the queue, naming both settings', () => {
    assert.throws(
      () => resolveServeConfig({ batchLimit: '20000' }, { CHURNWATCH_MAX_QUEUE: '10000' }),
      refusal(/batchLimit \(20000\) must not exceed maxQueue \(10000\)/),
    );
    // Equal is fine: one full batch fits an empty queue.
    assert.equal(
      resolveServeConfig({ batchLimit: '5000' }, { CHURNWATCH_MAX_QUEUE: '5000' }).batchLimit,
      5000,
    );
  });

  it('refuses numbers out of range or not whole, naming the flag or variable that was set', () => {
    assert.throws(() => resolveServeConfig({ maxQueue: '0' }), refusal(/--max-queue must be an integer/));
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_PORT: '80.5' }),
      refusal(/CHURNWATCH_PORT must be an integer from 0 to 65535, got "80.5"/),
    );
    assert.throws(() => resolveServeConfig({ bodyLimit: 'big' }), refusal(/--body-limit must be a size/));
    assert.throws(
      () => resolveServeConfig({ logLevel: 'loud' }),
      refusal(/^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"$/),
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_LOG_LEVEL: 'verbose' }),
      refusal(/^CHURNWATCH_LOG_LEVEL must be one of .*, got "verbose"$/),
    );
    assert.equal(resolveServeConfig({}, {}).logLevel, 'info');
    assert.equal(
      resolveServeConfig({ logLevel: 'debug' }, { CHURNWATCH_LOG_LEVEL: 'warn' }).logLevel,
      'debug',
    );
    assert.throws(
      () => resolveServeConfig({}, { CHURNWATCH_STORE_POOL_SIZE: '0' }),
      refusal(/CHURNWATCH_STORE_POOL_SIZE must be an integer from 1 to 1000/),
    );
  });
});
