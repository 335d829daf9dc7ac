import type { UnitOfWork } from '../hooks/unit-of-work.js';
import type { Rapport } from '../app/rapport.js';

/** One CSV record with its line number in the file (header = line 1). */
export interface ImportRecord {
  line: number;
  record: Record<string, string>;
}

export interface RejectedRow {
  line: number;
  errors: Array<{ column?: string; message: string }>;
}

export interface ImportBatchResult {
  imported: number;
  rejected: RejectedRow[];
}

/**
 * A bulk path for one kind of record, reached by `rapport import <name> <file.csv>` and
 * the import API. `importBatch` validates every row, rejects the bad ones with reasons, and
 * writes the good ones in multi-row statements inside the given unit of work (emitting one
 * event per created record). It must never insert row by row.
 */
export interface Importer {
  /** `parties`, `interactions`, or `<plugin>.<thing>` for a plugin's importer. */
  name: string;
  description?: string;
  columns: ReadonlyArray<{ name: string; required?: boolean; description?: string }>;
  importBatch(uow: UnitOfWork, rows: ImportRecord[], app: Rapport): Promise<ImportBatchResult>;
}
