import type { QueryContext } from '@rapport/core';
import { RETENTION_WEIGHTS, type RetentionWeights } from './retention.js';

type Db = QueryContext['db'];

export const RETENTION_WEIGHTS_KEY = 'retention-weights';

/** The tenant's retention weights, or the defaults while it has set none. */
export async function retentionWeights(db: Db, tenantId: string): Promise<{ weights: RetentionWeights; version: number; custom: boolean }> {
  const row: { value: RetentionWeights; version: number } | undefined = await db('hrm_settings').where({ tenant_id: tenantId, key: RETENTION_WEIGHTS_KEY }).first('value', 'version');
  return row ? { weights: row.value, version: row.version, custom: true } : { weights: { ...RETENTION_WEIGHTS }, version: 0, custom: false };
}
