import { NotFoundError, type QueryContext, type Rapport } from '@rapport/core';
import { SCOPES, TYPES } from '../declarations.js';
import type { Application, Opening } from '../types.js';
import { iso } from './context.js';

type Db = QueryContext['db'];

export interface OpeningRow {
  id: string;
  title: string;
  unit_id: string;
  position_id: string | null;
  hiring_manager_id: string | null;
  status: Opening['status'];
  created_at: Date;
}

export function toOpening(row: OpeningRow): Opening {
  return {
    id: row.id,
    title: row.title,
    unitId: row.unit_id,
    positionId: row.position_id,
    hiringManagerId: row.hiring_manager_id,
    status: row.status,
    createdAt: iso(row.created_at)!,
  };
}

/** An opening the caller may see (scoped: one it is hiring manager of); 404 otherwise. */
export async function visibleOpening(app: Rapport, ctx: QueryContext, id: string): Promise<OpeningRow> {
  const q = ctx.db('hrm_openings').where({ tenant_id: ctx.tenantId, id });
  app.scopes.apply(q, ctx, SCOPES.openings, 'id');
  const row: OpeningRow | undefined = await q.first();
  if (!row) throw new NotFoundError('Opening', id);
  return row;
}

/** Applications (hrm.recruiting relationships) with the candidate's name; the query the list and the get share. */
export function applicationsQuery(db: Db, tenantId: string): ReturnType<Db['queryBuilder']> {
  return db('rapport_relationships as a')
    .join('rapport_parties as p', function () {
      this.on('p.tenant_id', 'a.tenant_id').andOn('p.id', 'a.to_party_id');
    })
    .join('hrm_openings as o', 'o.tenant_id', 'a.tenant_id')
    .whereRaw("o.id = (a.attributes->>'openingId')::uuid")
    .where({ 'a.tenant_id': tenantId, 'a.type': TYPES.recruiting })
    .select('a.id', 'a.to_party_id', 'p.name', 'a.status', 'a.attributes', 'a.valid_from', 'a.created_at', 'a.updated_at', 'a.version');
}

export interface ApplicationRow {
  id: string;
  to_party_id: string;
  name: string;
  status: string;
  attributes: { openingId: string; source?: string | null };
  valid_from: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

export function toApplication(row: ApplicationRow): Application {
  return {
    id: row.id,
    candidateId: row.to_party_id,
    candidateName: row.name,
    openingId: row.attributes.openingId,
    stage: row.status,
    source: row.attributes.source ?? null,
    appliedAt: iso(row.valid_from ?? row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    version: row.version,
  };
}

/**
 * An application the caller may see: scoped callers only those of openings they are hiring
 * manager of (the scope is applied to the opening, in SQL). 404 otherwise.
 */
export async function visibleApplication(app: Rapport, ctx: QueryContext, id: string, forUpdate = false): Promise<ApplicationRow> {
  const q = applicationsQuery(ctx.db, ctx.tenantId).where('a.id', id);
  app.scopes.apply(q, ctx, SCOPES.openings, 'o.id');
  if (forUpdate) q.forUpdate();
  const row: ApplicationRow | undefined = await q.first();
  if (!row) throw new NotFoundError('Application', id);
  return row;
}

/**
 * Units of work inside POST /applications/{id}/hire. Only they may set a candidacy to `hired`,
 * so the kernel's PATCH /relationships cannot hire without starting the employment.
 */
export const hiresInProgress = new WeakSet<object>();
