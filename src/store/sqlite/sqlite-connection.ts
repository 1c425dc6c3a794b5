/**
 * The SQLite store's connections. The writer's is in WAL mode so readers (the monitor) never block it,
 * synchronous=NORMAL (a committed batch survives a process crash; a power loss may lose the last
 * transactions, see docs/feedback.md), with a busy timeout for other processes on the file. Reads that
 * must see one snapshot while the writer goes on use a second, read-only connection.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ChurnwatchError } from '../../errors.js';
import { userKey } from '../store-columns.js';

/** The path of a private in-memory database: one connection only, no WAL. */
export const IN_MEMORY = ':memory:';

/**
 * Page cache per connection, KiB. The writer's cache holds the hot ends of the indexes; the reader
 * streams column blocks and needs little. Caches are part of the server's memory: 64 MiB each took the
 * serving process from 274 to 336 MB RSS under batch load with no measurable gain in insert rate, and
 * the writer's 16 MiB inserts a million rows as fast as its 32 MiB did (0.996 of the rows per CPU
 * second, store-ab.bench.ts) while the server's peak under batch load stays below 300 MB with writes
 * handed to the writer thread early (batched-writer.ts postBehind; docs/performance.md).
 */
const WRITE_CACHE_KIB = 16_384;
const READ_CACHE_KIB = 16_384;

/**
 * WAL size between automatic checkpoints, bytes (SQLite counts it in pages of the file's size). A
 * checkpoint copies the WAL into the database and syncs both files (synchronous=NORMAL syncs nowhere
 * else); SQLite's default of 1,000 pages (4 MiB of 4 KiB pages) meant two fsyncs every few thousand
 * predictions. 32 MiB took the writer from 128k to 164k rows/s; 80 MiB gained nothing more
 * (docs/performance.md). Durability is unchanged: a committed batch is in the WAL either way.
 */
const WAL_CHECKPOINT_BYTES = 32 * 1024 * 1024;

/**
 * Page size of a new database, bytes (an existing file keeps its own). SQLite writes every WAL frame, one
 * page, with system calls of its own: with 4 KiB pages a batch of 1,000 predictions cost about 190
 * frames and 376 pwrite calls, a large part of the writer's time where system calls are dear (a
 * virtual machine). 8 KiB pages took the writer alone from 66–67k to 70–74k rows/s; 16 KiB gained
 * about as much more but wrote twice the bytes for every small transaction (one transaction per row:
 * 5–7k against 10–12k rows/s), which single feedback items are (docs/performance.md).
 */
const PAGE_SIZE = 8192;

/** Opens (creating if need be) the connection that writes; a failure is a CW_STORE_OPEN_FAILED. */
export function openWriteConnection(path: string, busyTimeoutMs: number): Database.Database {
  try {
    if (path !== IN_MEMORY) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: busyTimeoutMs });
    if (path !== IN_MEMORY) {
      // Before WAL mode: a database in WAL mode keeps the page size it has.
      db.pragma(`page_size = ${PAGE_SIZE}`);
      // Takes only on a new, empty file (an existing one keeps its mode until a VACUUM): lets retention
      // give free pages back to the file system in small steps (retention.ts, docs/feedback.md).
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.round(WAL_CHECKPOINT_BYTES / pageSize))}`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${WRITE_CACHE_KIB}`);
    // Migration 3 fills user_key for existing rows in SQL with the same function inserts use in JS.
    db.function('churnwatch_user_key', { deterministic: true }, (id: unknown) =>
      typeof id === 'string' ? userKey(id) : null,
    );
    return db;
  } catch (error) {
    throw new ChurnwatchError(
      'CW_STORE_OPEN_FAILED',
      `cannot open SQLite database ${path}: ${(error as Error).message}`,
      {
        hint: 'check that the directory exists and is writable, and that the file is a SQLite database',
        cause: error,
      },
    );
  }
}

/** A read-only connection to a database file the writer has opened. */
export function openReadConnection(path: string, busyTimeoutMs: number): Database.Database {
  const reader = new Database(path, { readonly: true, timeout: busyTimeoutMs });
  reader.pragma(`cache_size = -${READ_CACHE_KIB}`);
  return reader;
}
