/** Messages between the SQLite store and its writer thread (sqlite-writer-worker.ts). */
import type { SqliteStoreOptions } from './sqlite-store.js';

export type WriterOperation =
  | 'migrate'
  | 'insertRows'
  | 'insertRowsAfter'
  | 'recordFeedback'
  | 'joinPending'
  | 'dropPending'
  | 'retentionStep'
  | 'vacuumStep'
  | 'countFeedback'
  | 'ping'
  | 'close';

export interface WriterRequest {
  readonly id: number;
  readonly op: WriterOperation;
  readonly arg?: unknown;
}

/** An error as it crosses the thread boundary: enough to rebuild a ChurnwatchError or TypeError. */
export interface WriterErrorData {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly hint?: string;
}

export type WriterResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WriterErrorData };

export type WriterData = SqliteStoreOptions;
