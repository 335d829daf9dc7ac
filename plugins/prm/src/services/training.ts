import { ConflictError, ForbiddenError, ValidationError, decodeCursor, newId, toPage, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import type { Knex } from 'knex';
import { STAFF_TYPE } from './portal.js';
import { notFound } from './supply.js';

const DAY_MS = 86_400_000;

export interface Course {
  id: string;
  title: string;
  description: string | null;
  /** Days a certification stays valid after completion; null: it never expires. */
  validityDays: number | null;
  createdAt: string;
}

export interface Certification {
  id: string;
  courseId: string;
  personId: string;
  /** The partner organization the person was staff of when certified. */
  partnerId: string;
  completedAt: string;
  expiresAt: string | null;
  /** Not expired at the time of reading. */
  valid: boolean;
  createdAt: string;
}

/** Training and certification of partner staff; valid certifications feed the `certifiedStaff` tier criterion. */
export class TrainingService {
  constructor(private readonly app: Rapport) {}

  certifications(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_certifications').where('tenant_id', ctx.tenantId), ctx, 'prm.certifications', 'id');
  }

  async createCourse(uow: UnitOfWork, input: { title: string; description?: string; validityDays?: number }): Promise<Course> {
    firmOnly(uow, 'define courses');
    const taken = await uow.trx('prm_courses').where({ tenant_id: uow.tenantId, title: input.title }).first('id');
    if (taken) throw new ConflictError(`prm: course ${input.title} exists`, { courseId: taken.id });
    const row = { tenant_id: uow.tenantId, id: newId(), title: input.title, description: input.description ?? null, validity_days: input.validityDays ?? null, created_at: new Date() };
    await uow.trx('prm_courses').insert(row);
    const course = toCourse(row);
    uow.emit('prm.course.created', { course }, { type: 'prm.course', id: course.id });
    return course;
  }

  /** The catalogue is open to every partner: it is what they may train for. */
  async listCourses(ctx: QueryContext): Promise<Course[]> {
    return (await ctx.db('prm_courses').where('tenant_id', ctx.tenantId).orderBy([{ column: 'title' }, { column: 'id' }])).map(toCourse);
  }

  /**
   * Records that a staff member of a partner completed a course. The firm runs the training
   * and records it: a certification counts toward a tier, so the partner cannot grant its own.
   */
  async recordCompletion(uow: UnitOfWork, input: { courseId: string; personId: string; partnerId: string; completedAt?: string }, now = new Date()): Promise<Certification> {
    firmOnly(uow, 'record course completions');
    const course = await uow.trx('prm_courses').where({ tenant_id: uow.tenantId, id: input.courseId }).first();
    if (!course) throw new ValidationError(`prm: course ${input.courseId} does not exist`, [{ path: 'courseId', message: 'unknown course' }]);
    const staff = await uow.trx('rapport_relationships')
      .where({ tenant_id: uow.tenantId, type: STAFF_TYPE, from_party_id: input.personId, to_party_id: input.partnerId, status: 'active' })
      .first('id');
    if (!staff) throw new ValidationError(`prm: person ${input.personId} is not active staff of ${input.partnerId}`, [{ path: 'personId', message: 'not active staff of the partner' }]);
    const completedAt = input.completedAt ? new Date(input.completedAt) : now;
    if (completedAt.getTime() > now.getTime()) throw new ValidationError('prm: a course cannot be completed in the future', [{ path: 'completedAt', message: 'in the future' }]);
    const expiresAt = course.validity_days === null ? null : new Date(completedAt.getTime() + course.validity_days * DAY_MS);
    const row = { tenant_id: uow.tenantId, id: newId(), course_id: input.courseId, person_id: input.personId, partner_id: input.partnerId, completed_at: completedAt, expires_at: expiresAt, created_at: now };
    await uow.trx('prm_certifications').insert(row);
    const certification = toCertification(row, now);
    await this.app.services.interactions.create(uow.unscoped(), {
      type: 'prm.certification',
      direction: 'outbound',
      subject: `Certified: ${course.title}`,
      occurredAt: completedAt.toISOString(),
      participants: [
        { partyId: input.personId, role: 'staff' },
        { partyId: input.partnerId, role: 'partner' },
      ],
      attributes: { certificationId: row.id, courseId: course.id },
    });
    uow.emit('prm.certification.recorded', { certification }, { type: 'prm.certification', id: certification.id });
    return certification;
  }

  async getCertification(ctx: QueryContext, id: string, now = new Date()): Promise<Certification> {
    const row = await this.certifications(ctx).where('id', id).first();
    if (!row) throw notFound('certification', id);
    return toCertification(row, now);
  }

  async listCertifications(ctx: QueryContext, query: { partnerId?: string; personId?: string; courseId?: string; valid?: boolean; limit: number; cursor?: string }, now = new Date()): Promise<Page<Certification>> {
    const q = this.certifications(ctx).orderBy([{ column: 'completed_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (query.partnerId) q.where('partner_id', query.partnerId);
    if (query.personId) q.where('person_id', query.personId);
    if (query.courseId) q.where('course_id', query.courseId);
    if (query.valid === true) q.where((w) => w.whereNull('expires_at').orWhere('expires_at', '>', now));
    if (query.valid === false) q.where('expires_at', '<=', now);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(completed_at, id) < (?, ?)', after);
    return toPage(await q, query.limit, (r: any) => toCertification(r, now), (r: any) => [new Date(r.completed_at).toISOString(), r.id]);
  }
}

/**
 * Staff of the partner (active `prm.staff` now) holding at least one certification that has
 * not expired: the `certifiedStaff` tier metric. One query.
 */
export async function countCertifiedStaff(db: Knex, tenantId: string, partnerId: string, now: Date): Promise<number> {
  const row = await db('prm_certifications as c')
    .join('rapport_relationships as s', function () {
      this.on('s.tenant_id', 'c.tenant_id').andOn('s.from_party_id', 'c.person_id').andOn('s.to_party_id', 'c.partner_id');
    })
    .where({ 'c.tenant_id': tenantId, 'c.partner_id': partnerId, 's.type': STAFF_TYPE, 's.status': 'active' })
    .where((w) => w.whereNull('c.expires_at').orWhere('c.expires_at', '>', now))
    .first(db.raw('count(distinct c.person_id)::int as n'));
  return Number(row?.n ?? 0);
}

function firmOnly(ctx: QueryContext, action: string): void {
  if (ctx.principal.scopePartyId) throw new ForbiddenError(`prm: a partner principal cannot ${action}`);
}

function toCourse(row: any): Course {
  return { id: row.id, title: row.title, description: row.description ?? null, validityDays: row.validity_days ?? null, createdAt: new Date(row.created_at).toISOString() };
}

function toCertification(row: any, now: Date): Certification {
  const expiresAt = row.expires_at ? new Date(row.expires_at) : null;
  return {
    id: row.id,
    courseId: row.course_id,
    personId: row.person_id,
    partnerId: row.partner_id,
    completedAt: new Date(row.completed_at).toISOString(),
    expiresAt: expiresAt ? expiresAt.toISOString() : null,
    valid: expiresAt === null || expiresAt > now,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
