import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { withTempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { createBatchedWriter } from './batched-writer.js';
import { prediction, readAll } from './prediction-store.contract.js';
import type { PredictionRows } from './prediction-store.js';
import { createSqliteStore } from './sqlite/sqlite-store.js';
import { createThreadedSqliteStore } from './sqlite/threaded-sqlite-store.js';

const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => prediction(`${prefix}${i}`, 1000 + i));

/** Small writes retried quickly: a store that fails for a while (a lock held elsewhere) in a test. */
const outageOptions = (maxQueue: number, errors: unknown[]) => ({
  maxQueue,
  maxBatch: 8,
  flushIntervalMs: 1,
  retryBaseMs: 5,
  retryMaxMs: 20,
  onError: (e: unknown) => errors.push(e),
});

/** Runs `during` while another connection, as another process would, holds the file's write lock. */
async function whileLocked(path: string, during: () => Promise<void>): Promise<void> {
  const locker = new Database(path);
  locker.exec('BEGIN IMMEDIATE');
  try {
    await during();
  } finally {
    locker.exec('ROLLBACK');
    locker.close();
  }
}

describe('createBatchedWriter (on a real SQLite store)', () => {
  it('writes every acknowledged record in batches of at most maxBatch, by close()', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    const flushed: number[] = [];
    const writer = createBatchedWriter(store, {
      maxBatch: 400,
      onFlush: (n, s) => {
        assert.ok(s >= 0);
        flushed.push(n);
      },
    });
    for (let k = 0; k < 5; k++) assert.equal(writer.enqueue(records(`k${k}-`, 300)), true);
    await writer.flush();
    assert.equal(writer.size, 0);
    assert.equal((await readAll(store)).length, 1500);
    assert.ok(flushed.every((n) => n <= 400));
    assert.equal(
      flushed.reduce((a, b) => a + b, 0),
      1500,
    );
    assert.equal(writer.enqueue(records('late-', 7)), true);
    await writer.close();
    assert.equal((await readAll(store)).length, 1507, 'close() flushes what was queued');
    assert.equal(writer.enqueue(records('closed-', 1)), false, 'a closed writer refuses');
    await store.close();
  });

  it('frees the buffer of a large written batch at once and leaves small ones to the GC', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    const seen: PredictionRows[] = [];
    const writer = createBatchedWriter(
      {
        insertRows: async (rows) => {
          seen.push(rows);
          await store.insertRows(rows);
        },
      },
      { maxBatch: 10_000 },
    );
    // One request's rows are written as they were queued (one part, no copy), so the store sees the
    // writer's own buffer: 1,000 rows (128 KB) are released, a single row's 128 bytes are not.
    assert.equal(writer.enqueue(records('big', 1000)), true);
    await writer.flush();
    assert.equal(writer.enqueue(records('one', 1)), true);
    await writer.flush();
    assert.deepEqual(
      seen.map((rows) => rows.count),
      [1000, 1],
    );
    assert.equal(seen[0]!.numbers.byteLength, 0, 'the large batch buffer was handed back');
    assert.ok(seen[1]!.numbers.byteLength > 0, 'the small one is left as it is');
    assert.equal((await readAll(store)).length, 1001);
    await writer.close();
    await store.close();
  });

  it('lets waiters in, oldest first, as writes free room; times out; a closing writer sends them away', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    const writer = createBatchedWriter(store, { maxQueue: 10, flushIntervalMs: 60_000, maxBatch: 4 });
    assert.equal(writer.enqueue(records('a', 10)), true);
    assert.equal(await writer.waitForRoom(1, 0), false, 'no wait: refused at once');
    assert.equal(await writer.waitForRoom(11, 5_000), false, 'more than the queue ever holds');
    const order: string[] = [];
    const big = writer.waitForRoom(8, 5_000).then((ok) => order.push(`big ${ok}`));
    const small = writer.waitForRoom(1, 5_000).then((ok) => order.push(`small ${ok}`));
    const late = writer.waitForRoom(1, 30).then((ok) => order.push(`late ${ok}`));
    await late;
    assert.deepEqual(order, ['late false'], 'nothing was written within 30 ms');
    // Writes of 4: room for 8 comes after the second, and the small waiter, behind it, then too.
    await writer.flush();
    await Promise.all([big, small]);
    assert.deepEqual(order, ['late false', 'big true', 'small true']);
    assert.equal(writer.enqueue(records('b', 10)), true);
    const closing = writer.waitForRoom(1, 5_000);
    await writer.close();
    assert.equal(await closing, false, 'a closed writer admits nobody');
    assert.equal((await readAll(store)).length, 20);
    await store.close();
  });

  it('frees the buffers of written rows, and keeps a failed batch intact for the retry', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    const given: PredictionRows[] = [];
    let failNext = true;
    const writer = createBatchedWriter(
      {
        async insertRows(rows) {
          given.push(rows);
          if (failNext) {
            failNext = false;
            throw new Error('disk full');
          }
          await store.insertRows(rows);
        },
      },
      { maxBatch: 1000, flushIntervalMs: 60_000, retryBaseMs: 1 },
    );
    // Chunks of 400 in batches of 1,000: concatenations and a chunk split across two batches; every
    // batch large enough to be released (32 KiB and more).
    const sent = Array.from({ length: 6 }, (_, k) =>
      records(`c${k}-`, 400).map((r, i) => ({ ...r, score: (k * 400 + i) / 10_000 })),
    );
    for (const chunk of sent) assert.equal(writer.enqueue(chunk), true);
    await writer.flush();
    const written = await readAll(store);
    const byId = (a: [string, number], b: [string, number]) => a[0].localeCompare(b[0]);
    assert.deepEqual(
      written.map((p): [string, number] => [p.id, p.score]).sort(byId),
      sent
        .flat()
        .map((r): [string, number] => [r.id, r.score])
        .sort(byId),
      'every row, with its numbers, once',
    );
    assert.equal(given.length, 4, 'one failed write of 1,000, then 1,000, 1,000, 400');
    // The failed batch was a copy (a concatenation): garbage once it failed, the queue kept its own rows
    // for the retry (every row written once, above).
    for (const rows of given) assert.equal(rows.numbers.buffer.byteLength, 0, 'freed once answered');
    await writer.close();
    await store.close();
  });

  it('refuses a batch that does not fit, all or nothing', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    const writer = createBatchedWriter(store, { maxQueue: 10, flushIntervalMs: 60_000 });
    assert.equal(writer.enqueue(records('a', 8)), true);
    assert.equal(writer.hasRoom(3), false);
    assert.equal(writer.enqueue(records('b', 3)), false);
    assert.equal(writer.size, 8);
    assert.equal(writer.hasRoom(2), true);
    assert.equal(writer.enqueue(records('c', 2)), true);
    assert.equal(writer.size, 10);
    assert.equal(writer.hasRoom(1), false);
    await writer.close();
    assert.equal(writer.hasRoom(0), false, 'a closed writer has no room');
    assert.deepEqual(
      (await readAll(store)).map((r) => r.id).sort(),
      [...records('a', 8), ...records('c', 2)].map((r) => r.id).sort(),
    );
    await store.close();
  });

  it('answers committed() once the records queued before it are written, at once, not after the flush interval', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    const writes: number[] = [];
    const writer = createBatchedWriter(store, {
      flushIntervalMs: 60_000,
      onFlush: (n) => writes.push(n),
    });
    assert.equal(await writer.committed(1000), true, 'nothing queued: committed already');
    assert.equal(writer.enqueue(records('one', 3)), true);
    // With a 60 s flush interval only the committed() call can have started this write.
    assert.equal(await writer.committed(10_000), true);
    assert.deepEqual(writes, [3]);
    assert.deepEqual(
      (await readAll(store)).map((r) => r.id).sort(),
      records('one', 3)
        .map((r) => r.id)
        .sort(),
    );
    // Queued without a commit wait: it waits for the interval (or a flush), as before.
    assert.equal(writer.enqueue(records('later', 2)), true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(writer.size, 2, 'a plain enqueue still waits for the flush interval');
    await writer.close();
    assert.deepEqual(writes, [3, 2]);
    await store.close();
  });

  it('writes the requests that arrive during a write together in the next one (group commit)', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    let release: () => void = () => undefined;
    let gate: Promise<void> | undefined = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sizes: number[] = [];
    const writer = createBatchedWriter(
      {
        async insertRows(rows) {
          sizes.push(rows.count);
          const held = gate;
          gate = undefined;
          await held; // the first write stays in progress until the test releases it
          await store.insertRows(rows);
        },
      },
      { flushIntervalMs: 60_000 },
    );
    const answered: string[] = [];
    const request = (name: string) => {
      assert.equal(writer.enqueue(records(name, 1)), true);
      return writer.committed(10_000).then((ok) => answered.push(`${name} ${ok}`));
    };
    const first = request('r0-');
    await waitFor(() => sizes.length === 1, { what: 'the first write to start' });
    const others = ['r1-', 'r2-', 'r3-', 'r4-', 'r5-'].map(request);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(answered, [], 'none answered while its write has not committed');
    release();
    await Promise.all([first, ...others]);
    assert.deepEqual(sizes, [1, 5], 'five concurrent requests, one transaction');
    assert.deepEqual(answered, ['r0- true', 'r1- true', 'r2- true', 'r3- true', 'r4- true', 'r5- true']);
    await writer.close();
    assert.equal((await readAll(store)).length, 6);
    await store.close();
  });

  it('answers committed() false when the store fails past the timeout, keeps the records, writes them later', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    await store.migrate();
    let failing = true;
    const errors: unknown[] = [];
    const writer = createBatchedWriter(
      {
        async insertRows(rows) {
          if (failing) throw new Error('disk full');
          await store.insertRows(rows);
        },
      },
      { flushIntervalMs: 60_000, retryBaseMs: 5, retryMaxMs: 20, onError: (e) => errors.push(e) },
    );
    assert.equal(writer.enqueue(records('kept', 4)), true);
    assert.equal(await writer.committed(100), false, 'not written in time');
    assert.ok(errors.length >= 2, `retried meanwhile (${errors.length} failed writes)`);
    assert.equal(writer.size, 4, 'still queued, not dropped');
    assert.equal(await writer.committed(0), false, 'no wait: not written yet');
    const again = writer.committed(10_000);
    failing = false;
    assert.equal(await again, true, 'a wait that lasts past the recovery sees the commit');
    assert.deepEqual(
      (await readAll(store)).map((r) => r.id).sort(),
      records('kept', 4)
        .map((r) => r.id)
        .sort(),
    );
    await writer.close();
    await store.close();
  });

  it('posts the next write behind the one in flight on the writer thread, and retries both in order', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'behind.db');
      const store = createThreadedSqliteStore({ path, busyTimeoutMs: 5 });
      await store.migrate();
      const outcomes: boolean[] = [];
      const errors: unknown[] = [];
      const writer = createBatchedWriter(
        {
          rowLayout: store.rowLayout,
          insertRows: (rows) => store.insertRows(rows),
          insertRowsAfter: async (rows) => {
            const written = await store.insertRowsAfter!(rows);
            outcomes.push(written);
            return written;
          },
        },
        // Writes of a batch request's size and more go behind another (BEHIND_MIN_RECORDS).
        { ...outageOptions(10_000, errors), maxBatch: 1000 },
      );
      await whileLocked(path, async () => {
        assert.equal(writer.enqueue(records('r', 4000)), true);
        await waitFor(() => errors.length >= 2, { what: 'two failed writes while the database is locked' });
        assert.ok(outcomes.includes(false), 'the write behind a failed one was refused');
        assert.equal(writer.size, 4000, 'nothing written, nothing dropped');
      });
      assert.equal(writer.enqueue(records('s', 3000)), true);
      await writer.flush();
      assert.ok(outcomes.includes(true), 'writes posted behind another were written');
      const db = new Database(path, { readonly: true });
      const stored = db.prepare('SELECT id FROM predictions ORDER BY rowid').pluck().all();
      db.close();
      assert.deepEqual(
        stored,
        [...records('r', 4000), ...records('s', 3000)].map((r) => r.id),
        'every record once, stored in the order accepted',
      );
      await writer.close();
      await store.close();
    }));

  it('keeps records while the database is locked by another process, then drains', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'outage.db');
      const store = createSqliteStore({ path, busyTimeoutMs: 5 });
      await store.migrate();
      const errors: unknown[] = [];
      const writer = createBatchedWriter(store, outageOptions(50, errors));
      await whileLocked(path, async () => {
        assert.equal(writer.enqueue(records('o', 40)), true);
        await waitFor(() => errors.length >= 3, { what: 'three failed writes while the database is locked' });
        assert.match(String(errors[0]), /locked|busy/i);
        assert.equal(writer.size, 40, 'nothing written, nothing dropped');
        assert.equal(writer.enqueue(records('x', 11)), false, 'full while the store is down');
      });
      await writer.flush();
      assert.equal(writer.size, 0);
      assert.deepEqual(
        (await readAll(store)).map((r) => r.id),
        records('o', 40).map((r) => r.id),
        'all of them, in order',
      );
      await writer.close();
      await store.close();
    }));
});
