export type { Importer, ImporterColumn, ImportRecord, ImportBatchResult, ImportSettings, RejectedRow, RowError } from './importer.js';
export { runImport, DEFAULT_BATCH_SIZE, type ImportOptions, type ImportProgress, type ImportResult } from './run-import.js';
export { listImporters, findImporter, kernelImporters, type ImporterInfo } from './registry.js';
export { insertUnnest } from './bulk-insert.js';
