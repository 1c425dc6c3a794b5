import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/open-store.js';
import { describePredictionStore, prediction, readAll } from '../../src/store/prediction-store.contract.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { withTempDir } from '../helpers/temp-dir.js';

describePredictionStore('sqlite :memory:', async () => {
  const store = createSqliteStore({ path: ':memory:' });
  await store.migrate();
  return store;
});

describePredictionStore('sqlite file (WAL)', async () => {
  // Each store gets its own file (in a directory openStore must create); closing removes it.
  const dir = await mkdtemp(join(tmpdir(), 'churnwatch-store-'));
  const store = openStore(`sqlite:${join(dir, 'nested', 'churnwatch.db')}`);
  await store.migrate();
  return {
    ...store,
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite store on disk', () => {
  it('keeps predictions, labels and pending feedback across a restart', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'churnwatch.db');
      const first = createSqliteStore({ path });
      await first.migrate();
      await first.insertPredictions([prediction('a', 1000), prediction('b', 2000)]);
      await first.recordFeedback([
        { predictionId: 'a', label: 1, observedAt: 1500, receivedAt: 1500 },
        { predictionId: 'c', label: 0, observedAt: 3500, receivedAt: 3500 },
      ]);
      await first.close();

      const second = createSqliteStore({ path });
      await second.migrate();
      assert.deepEqual(await second.countFeedback(), { joined: 1, pending: 1, duplicate: 0, conflict: 0 });
      assert.deepEqual(
        (await readAll(second)).map((r) => [r.id, r.label]),
        [
          ['a', 1],
          ['b', null],
        ],
      );
      await second.insertPredictions([prediction('c', 3000)]);
      assert.deepEqual(
        (await second.joinPending()).map((o) => [o.status, o.prediction?.id]),
        [['joined', 'c']],
      );
      await second.close();
    }));

  it('fails ping while another connection holds the write lock, and recovers', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'locked.db');
      const store = createSqliteStore({ path, busyTimeoutMs: 20 });
      await store.migrate();
      const locker = new Database(path);
      locker.exec('BEGIN IMMEDIATE');
      await assert.rejects(store.ping(), /locked|busy/i);
      locker.exec('ROLLBACK');
      locker.close();
      await store.ping();
      await store.close();
    }));
});

describe('openStore', () => {
  it('rejects unsupported URLs with a clear error and masks passwords', () => {
    assert.throws(
      () => openStore('mysql://root:secret@db/x'),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CW_STORE_URL_INVALID');
        assert.match(error.message, /unsupported scheme "mysql:"/);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
    assert.throws(() => openStore('data/churnwatch.db'), /has no scheme/);
    assert.throws(() => openStore('sqlite:'), /names no SQLite file/);
  });

  it('opens sqlite and postgres URLs as the right backend without connecting', async () => {
    const memory = openStore('sqlite::memory:');
    assert.equal(memory.kind, 'sqlite');
    await memory.close();
    for (const url of ['postgres://u@127.0.0.1:1/x', 'postgresql://u@127.0.0.1:1/x']) {
      const store = openStore(url);
      assert.equal(store.kind, 'postgres');
      await store.close();
    }
  });
});
