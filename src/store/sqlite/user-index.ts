/**
 * Feedback by user without a random index on the predictions table (migration 6). A B-tree on
 * (user_key, created_at) took every insert at a random place: a 10,000-row transaction dirtied most of
 * its leaf pages, and all of them went through the WAL. Instead, when a block is sealed its
 * (user_key, rowid) pairs are appended to prediction_user_rows, keyed by block first so the B-tree only
 * grows at its end, and each block gets a Bloom filter of its keys (user-bloom.ts, built on first use
 * and kept in prediction_block_users). A lookup seeks the blocks whose filter may hold the user, and
 * the unsealed rows (after the seal watermark, normally under one block) are scanned once per batch.
 *
 * Lookups compare user_id, not only the key, so a hash collision never joins the wrong customer.
 * Everything here runs inside the caller's write transaction.
 */
import type Database from 'better-sqlite3';
import { userKey } from '../store-columns.js';
import { compareIds } from './assemble-columns.js';
import { mayHoldUser, readUserBloom, userBloom } from './user-bloom.js';

/** What a feedback join reads of a prediction, by id (sqlite-store.ts) or by user (here). */
export interface TargetRow {
  id: string;
  created_at: number;
  model_version: string;
  score: number;
  predicted_class: number;
  label: number | null;
}

export const TARGET_COLUMNS = 'id, created_at, model_version, score, predicted_class, label';
const TARGET = TARGET_COLUMNS.replace(/\w+/g, (column) => `p.${column}`);

/** Index rows per INSERT statement when a block is sealed. */
const PAIRS_PER_INSERT = 100;

/** The later of two candidates by (created_at, id), as ORDER BY created_at DESC, id DESC picks. */
function later(a: TargetRow | undefined, b: TargetRow | undefined): TargetRow | undefined {
  if (!a || !b) return a ?? b;
  if (a.created_at !== b.created_at) return a.created_at > b.created_at ? a : b;
  return compareIds(a.id, b.id) >= 0 ? a : b;
}

export interface UserIndex {
  /** Appends a sealed block's (user_key, rowid) pairs; null keys (no user id) are left out. */
  indexBlock(blockId: number, keys: readonly (number | null)[], rowids: ArrayLike<number>): void;
  /**
   * A lookup for one batch of feedback: the unsealed rows of the batch's users are read once, here.
   * It answers the latest prediction of `userId` made at or before `observedAt`.
   */
  batch(userIds: readonly string[]): (userId: string, observedAt: number) => TargetRow | undefined;
}

export function createUserIndex(db: Database.Database): UserIndex {
  const row = '(?, ?, ?)';
  const insert = (pairs: number) =>
    db.prepare(
      `INSERT OR IGNORE INTO prediction_user_rows (block_id, user_key, prediction_rowid)
       VALUES ${Array(pairs).fill(row).join(', ')}`,
    );
  const insertMany = insert(PAIRS_PER_INSERT);
  const insertOne = insert(1);
  const newBlocks = db
    .prepare<[number], [number, number, number, Buffer | null]>(
      `SELECT b.id, b.first_created_at, b.last_created_at, f.bloom FROM prediction_blocks b
       LEFT JOIN prediction_block_users f ON f.block_id = b.id WHERE b.id > ? ORDER BY b.id`,
    )
    .raw();
  const blockKeys = db
    .prepare<[number], number>('SELECT user_key FROM prediction_user_rows WHERE block_id = ?')
    .pluck();
  const insertBloom = db.prepare(
    'INSERT OR IGNORE INTO prediction_block_users (block_id, bloom) VALUES (?, ?)',
  );
  const sealedThrough = db.prepare<[], number>('SELECT sealed_through FROM prediction_seal_state').pluck();
  const oldestBlock = db.prepare<[], number | null>('SELECT min(id) FROM prediction_blocks').pluck();
  // NOT INDEXED: the rowid range after the watermark is the scan, whatever the planner thinks.
  const unsealed = db.prepare<[number, string], TargetRow & { user_id: string }>(
    `SELECT ${TARGET}, p.user_id FROM predictions p NOT INDEXED
     WHERE p.rowid > ? AND p.user_key IN (SELECT value FROM json_each(?))`,
  );
  const inBlock = db.prepare<[number, number, string, number], TargetRow>(
    `SELECT ${TARGET} FROM prediction_user_rows u JOIN predictions p ON p.rowid = u.prediction_rowid
     WHERE u.block_id = ? AND u.user_key = ? AND p.user_id = ? AND p.created_at <= ?
     ORDER BY p.created_at DESC, p.id DESC LIMIT 1`,
  );

  // The filters of every block seen so far, oldest first: each batch loads the blocks after the last one
  // it knows. Retention (retention.ts) deletes blocks, oldest first, and never the newest, so an id is
  // never used twice: the cache forgets the blocks before the oldest left. One it still holds (deleted
  // out of order, or trimmed since: an older start) costs a seek that finds nothing, never a wrong join.
  const blockIds: number[] = [];
  const blockStarts: number[] = [];
  const blockEnds: number[] = [];
  const blooms: Uint32Array[] = [];
  function refresh(): void {
    const oldest = oldestBlock.get() ?? Number.POSITIVE_INFINITY;
    let gone = 0;
    while (gone < blockIds.length && blockIds[gone]! < oldest) gone++;
    if (gone > 0) for (const list of [blockIds, blockStarts, blockEnds, blooms]) list.splice(0, gone);
    for (const [id, firstCreatedAt, lastCreatedAt, stored] of newBlocks.all(blockIds.at(-1) ?? 0)) {
      let bloom = stored;
      if (!bloom) {
        // Sealed since the last batch, or by a version before the filters: built once, from its pairs.
        bloom = Buffer.from(userBloom(blockKeys.all(id)));
        insertBloom.run(id, bloom);
      }
      blockIds.push(id);
      blockStarts.push(firstCreatedAt);
      blockEnds.push(lastCreatedAt);
      blooms.push(readUserBloom(bloom));
    }
  }

  return {
    indexBlock(blockId, keys, rowids) {
      const pairs: [number, number][] = [];
      keys.forEach((key, i) => {
        if (key !== null) pairs.push([key, rowids[i]!]);
      });
      // In key order, so the block's entries go in as one ascending run at the end of the B-tree.
      pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const params: number[] = new Array(PAIRS_PER_INSERT * 3);
      let p = 0;
      for (; p + PAIRS_PER_INSERT <= pairs.length; p += PAIRS_PER_INSERT) {
        for (let k = 0; k < PAIRS_PER_INSERT; k++) {
          const [key, rowid] = pairs[p + k]!;
          params[k * 3] = blockId;
          params[k * 3 + 1] = key;
          params[k * 3 + 2] = rowid;
        }
        insertMany.run(params);
      }
      for (; p < pairs.length; p++) insertOne.run(blockId, pairs[p]![0], pairs[p]![1]);
    },

    batch(userIds) {
      refresh();
      const keys = [...new Set(userIds.map(userKey))];
      const tail = new Map<string, TargetRow[]>();
      if (keys.length > 0) {
        for (const r of unsealed.all(sealedThrough.get()!, JSON.stringify(keys))) {
          const rows = tail.get(r.user_id);
          if (rows) rows.push(r);
          else tail.set(r.user_id, [r]);
        }
      }
      return (userId, observedAt) => {
        let best: TargetRow | undefined;
        for (const r of tail.get(userId) ?? []) if (r.created_at <= observedAt) best = later(best, r);
        const key = userKey(userId);
        // Newest block first: blocks are cut in insertion order, so once one holds a match the older
        // blocks mostly end before it and are skipped without a seek.
        for (let b = blockIds.length - 1; b >= 0; b--) {
          if (blockStarts[b]! > observedAt || (best && blockEnds[b]! < best.created_at)) continue;
          if (!mayHoldUser(blooms[b]!, key)) continue;
          best = later(best, inBlock.get(blockIds[b]!, key, userId, observedAt));
        }
        return best;
      };
    },
  };
}
