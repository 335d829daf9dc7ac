import { z } from 'zod';
import { idParams, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { INTERACTIONS, PERMISSIONS } from '../declarations.js';
import type { PrivateRecord } from '../types.js';
import { employeeScope, iso, queryContext } from '../services/context.js';
import { activeEmployment } from '../services/org.js';
import { interactionSchema, timestamp } from './schemas.js';
import { visibleEmployee } from './org.js';

const privateBody = z.strictObject({
  contract: z
    .strictObject({
      type: z.enum(['permanent', 'fixed-term', 'contractor', 'intern', 'other']).optional(),
      hoursPerWeek: z.number().min(0).max(80).optional(),
      start: z.string().max(40).optional(),
      end: z.string().max(40).nullable().optional(),
      reference: z.string().max(200).optional(),
    })
    .default({}),
  payBand: z.string().trim().min(1).max(50).nullable().default(null),
  privateContact: z
    .strictObject({ email: z.string().max(320).optional(), phone: z.string().max(50).optional(), address: z.string().max(500).optional(), emergencyContact: z.string().max(500).optional() })
    .default({}),
  notes: z.string().max(20000).nullable().default(null),
});

const privateSchema = z.object({
  partyId: z.uuid(),
  contract: z.record(z.string(), z.unknown()),
  payBand: z.string().nullable(),
  privateContact: z.record(z.string(), z.unknown()),
  notes: z.string().nullable(),
  version: z.number(),
  updatedAt: z.string(),
});

/** Timeline entries HRM records by hand (kudos has its own route; requests and surveys come from their modules). */
const TIMELINE_KINDS = { 'one-to-one': INTERACTIONS.oneToOne, feedback: INTERACTIONS.feedback, 'onboarding-step': INTERACTIONS.onboardingStep } as const;

export function peopleRoutes(r: RouteBuilder): void {
  r.get('/employees/:id/private', {
    summary: 'HR-private data of an employee (contract, pay band, private contact)',
    permission: PERMISSIONS.privateRead,
    params: idParams,
    response: privateSchema,
    handler: async (ctx) => {
      await visibleEmployee(ctx, ctx.params.id);
      const q = ctx.db('hrm_private').where({ tenant_id: ctx.tenantId, party_id: ctx.params.id });
      const row = await ctx.app.scopes.apply(q, queryContext(ctx), employeeScope(ctx.principal), 'party_id').first();
      if (!row) throw new NotFoundError('Private record of employee', ctx.params.id);
      return toPrivate(row);
    },
  });

  r.put('/employees/:id/private', {
    summary: 'Create or replace HR-private data; If-Match (the version) is required once it exists',
    permission: PERMISSIONS.privateWrite,
    params: idParams,
    body: privateBody,
    response: privateSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        await visibleEmployee(ctx, ctx.params.id, uow.trx);
        // HR-private data is HR's: a scoped principal (the employee, a manager) never writes it.
        if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: HR-private data is written by HR only');
        const existing = await uow.trx('hrm_private').where({ tenant_id: uow.tenantId, party_id: ctx.params.id }).forUpdate().first('version');
        if (existing && ctx.ifMatch === undefined) throw new PreconditionFailedError('hrm: If-Match with the current version is required to replace private data', { currentVersion: existing.version });
        if (existing && ctx.ifMatch !== existing.version) throw new PreconditionFailedError(`hrm: private data is at version ${existing.version}`, { currentVersion: existing.version });
        const row = {
          tenant_id: uow.tenantId,
          party_id: ctx.params.id,
          contract: JSON.stringify(ctx.body.contract),
          pay_band: ctx.body.payBand,
          private_contact: JSON.stringify(ctx.body.privateContact),
          notes: ctx.body.notes,
          version: (existing?.version ?? 0) + 1,
          updated_at: new Date(),
        };
        await uow.trx('hrm_private').insert(row).onConflict(['tenant_id', 'party_id']).merge();
        uow.emit('hrm.private.updated', { partyId: row.party_id, version: row.version }, { type: 'hrm.private', id: row.party_id });
        return toPrivate({ ...row, contract: ctx.body.contract, private_contact: ctx.body.privateContact });
      }),
  });

  r.post('/employees/:id/timeline', {
    summary: 'Record a one-to-one, feedback or onboarding step on the employee timeline',
    permission: PERMISSIONS.timelineWrite,
    params: idParams,
    body: z.strictObject({
      kind: z.enum(['one-to-one', 'feedback', 'onboarding-step']),
      occurredAt: timestamp.optional(),
      subject: z.string().max(500).optional(),
      summary: z.string().max(20000).optional(),
      withPartyId: z.uuid().optional(),
      withRole: z.enum(['manager', 'colleague', 'hr']).default('manager'),
    }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        await visibleEmployee(ctx, ctx.params.id, uow.trx);
        const participants = [{ partyId: ctx.params.id, role: 'employee' }];
        if (ctx.body.withPartyId && ctx.body.withPartyId !== ctx.params.id) participants.push({ partyId: ctx.body.withPartyId, role: ctx.body.withRole });
        return ctx.app.services.interactions.create(uow, {
          type: TIMELINE_KINDS[ctx.body.kind],
          occurredAt: ctx.body.occurredAt,
          direction: 'internal',
          subject: ctx.body.subject ?? null,
          summary: ctx.body.summary ?? null,
          participants,
        });
      }),
  });

  r.get('/employees/:id/timeline', {
    summary: "The employee's timeline (interactions the caller may see)",
    permission: PERMISSIONS.employeesRead,
    params: idParams,
    query: z.strictObject({ ...pageQuery, type: z.string().max(100).optional() }),
    response: pageOf(interactionSchema),
    handler: async (ctx) => {
      await visibleEmployee(ctx, ctx.params.id);
      return ctx.app.services.interactions.partyTimeline(queryContext(ctx), ctx.params.id, { limit: ctx.query.limit, cursor: ctx.query.cursor, type: ctx.query.type });
    },
  });

  r.post('/kudos', {
    summary: 'Recognize a colleague; the kudos shows on both timelines',
    permission: PERMISSIONS.timelineWrite,
    body: z.strictObject({ toPartyId: z.uuid(), message: z.string().trim().min(1).max(2000), fromPartyId: z.uuid().optional() }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const self = ctx.principal.scopePartyId ?? ctx.principal.partyId;
        // Giving kudos in someone else's name is an HR tool for unscoped callers only.
        const giver = ctx.body.fromPartyId && !ctx.principal.scopePartyId ? ctx.body.fromPartyId : self;
        if (!giver) throw new ValidationError('fromPartyId: the caller is not linked to a person; name the giver', [{ path: 'fromPartyId', message: 'required' }]);
        if (giver === ctx.body.toPartyId) throw new ValidationError('toPartyId: kudos go to someone else', [{ path: 'toPartyId', message: 'same as the giver' }]);
        for (const [field, id] of [['fromPartyId', giver], ['toPartyId', ctx.body.toPartyId]] as const) {
          if (!(await activeEmployment(uow.trx, uow.tenantId, id))) throw new ValidationError(`${field}: ${id} is not a current employee`, [{ path: field, message: 'not employed' }]);
        }
        return ctx.app.services.interactions.create(uow, {
          type: INTERACTIONS.kudos,
          direction: 'internal',
          summary: ctx.body.message,
          participants: [
            { partyId: giver, role: 'giver' },
            { partyId: ctx.body.toPartyId, role: 'receiver' },
          ],
        });
      }),
  });

}

function toPrivate(row: { party_id: string; contract: unknown; pay_band: string | null; private_contact: unknown; notes: string | null; version: number; updated_at: Date | string }): PrivateRecord {
  return {
    partyId: row.party_id,
    contract: row.contract as PrivateRecord['contract'],
    payBand: row.pay_band,
    privateContact: row.private_contact as PrivateRecord['privateContact'],
    notes: row.notes,
    version: row.version,
    updatedAt: iso(row.updated_at)!,
  };
}
