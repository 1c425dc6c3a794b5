import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prediction } from '../store/prediction-store.contract.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { toPredictionRows } from '../store/store-columns.js';
import { createLoggedIds } from './logged-ids.js';

describe('logged ids', () => {
  it('knows the ids it accepted lately and asks the store about the others', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    try {
      await store.insertRows(toPredictionRows([prediction('stored-1', 1000), prediction('stored-2', 2000)]));
      const ids = createLoggedIds(store, 2);
      ids.remember(['queued-a', 'queued-b']);
      assert.deepEqual(await ids.taken(['queued-a', 'stored-2', 'new']), new Set(['queued-a', 'stored-2']));
      assert.equal(ids.remembered('queued-b'), true);
      // A third id pushes the oldest out: by then the writer (maxQueue 2) has written it.
      ids.remember(['queued-c']);
      assert.equal(ids.remembered('queued-a'), false);
      assert.equal(ids.remembered('queued-c'), true);
      assert.deepEqual(await ids.taken(['queued-a']), new Set(), 'forgotten and not stored: new');
      assert.throws(() => createLoggedIds(store, 0), /positive integer/);
    } finally {
      await store.close();
    }
  });

  it('passes on a store that cannot answer', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.close();
    await assert.rejects(createLoggedIds(store, 10).taken(['x']));
  });
});
