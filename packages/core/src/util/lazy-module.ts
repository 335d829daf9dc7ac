import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/**
 * A dependency loaded the first time it is used, not when core is imported: the S3 SDK,
 * signature and CSV libraries cost a system that never touches them hundreds of milliseconds
 * of start-up (docs/performance.md, "Start-up"). Synchronous, so callers keep sync APIs.
 */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(id) as T);
}
