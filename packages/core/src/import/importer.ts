import type { UnitOfWork } from '../hooks/unit-of-work.js';

/** One CSV record with its line number in the file (header = line 1). */
export interface ImportRecord {
  line: number;
  record: Record<string, string>;
}

export interface RowError {
  /** The CSV column the problem is in, when it is about one column. */
  column?: string;
  message: string;
}

export interface RejectedRow {
  line: number;
  errors: RowError[];
}

export interface ImportBatchResult {
  imported: number;
  rejected: RejectedRow[];
}

/** Settings of one import run that importers may honour. */
export interface ImportSettings {
  /** Skip rows matching a record that already exists (each importer says what "matching" means). */
  dedupe: boolean;
  /**
   * One summary event for the batch instead of one per record (an importer that supports it
   * says which event in its description; the interactions importer emits
   * `interactions.imported`). A million imported rows then write a few hundred outbox and
   * audit rows, not a million of each. Default false.
   */
  summaryEvents?: boolean;
  /**
   * Set by the engine for a `pipelined` importer: resolves when every batch before this one
   * is committed; throws when the run stopped at an earlier batch. The engine awaits it
   * before committing the batch; await it yourself before a read or write that must see
   * the rows of the batches before, or that locks existing rows (an UPDATE, FOR UPDATE, a
   * filter that may do either): two open batches waiting on each other's locks would hang.
   */
  waitTurn?: () => Promise<void>;
}

export interface ImporterColumn {
  /** A column name; a trailing `*` declares a family (`attr.*` accepts `attr.industry`). */
  name: string;
  required?: boolean;
  description?: string;
}

/**
 * A bulk path for one kind of record, reached by `rapport import <name> <file.csv>` and
 * `runImport`. `importBatch` validates every row, rejects the bad ones with reasons, and
 * writes the good ones in multi-row statements inside the given unit of work (emitting one
 * event per created record). It must never insert row by row. If it throws, the engine
 * splits the batch and retries the halves, so a row that breaks the batch is isolated.
 */
export interface Importer {
  /** `parties`, `interactions`, or `<plugin>.<thing>` for a plugin's importer. */
  name: string;
  description?: string;
  /**
   * A permission the importing principal needs besides `imports:write` (e.g. `parties:write`),
   * checked before anything is read. Optional: record scopes and filters apply regardless.
   */
  permission?: string;
  /** The header is checked against these before any row is read: required ones must be present, unknown ones are refused. */
  columns: ReadonlyArray<ImporterColumn>;
  /**
   * The batches are independent (no batch's checks or writes depend on the rows of the one
   * before, unlike a `--dedupe` that must see them): the engine may check and write batch
   * N+1 in its own transaction while batch N is written, and commits them in file order.
   * A write that does depend on the batches before awaits `settings.waitTurn()` first.
   * Default: one batch at a time.
   */
  pipelined?: boolean;
  importBatch(uow: UnitOfWork, rows: ImportRecord[], settings: ImportSettings): Promise<ImportBatchResult>;
}
