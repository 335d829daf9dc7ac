import type { Knex } from 'knex';
import { ConflictError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { prm, type Certification, type Course } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { certificationRecord, courseRecord } from '../records.js';
import { notFound } from './errors.js';
import { newestFirst } from './pages.js';
import { STAFF_TYPE } from './portal.js';

const COURSES = 'prm_courses';
const CERTIFICATIONS = 'prm_certifications';
const DAY_MS = 86_400_000;

/** Training and certification of partner staff; valid certifications feed the `certifiedStaff` tier criterion. */
export class TrainingService {
  constructor(private readonly deps: PrmDeps) {}

  async createCourse(uow: UnitOfWork, input: { title: string; description?: string; validityDays?: number }): Promise<Course> {
    const tables = this.deps.db.in(uow);
    const taken = await tables(COURSES).where('title', input.title).first('id');
    if (taken) throw new ConflictError(`prm: course ${input.title} exists`, { courseId: taken.id });
    const [row] = await tables(COURSES)
      .insert({ id: newId(), title: input.title, description: input.description ?? null, validity_days: input.validityDays ?? null, created_at: new Date() })
      .returning(courseRecord.columns());
    const course = courseRecord.fromRow(row);
    uow.emit(prm.events.courseCreated, { course }, { type: 'prm.course', id: course.id });
    return course;
  }

  /** The catalogue by title, open to every partner: it is what they may train for. */
  listCourses(ctx: QueryContext, page: { limit: number; cursor?: string }): Promise<Page<Course>> {
    const q = this.deps.db.in(ctx)(COURSES).select(courseRecord.columns());
    return keysetPage(
      q,
      page,
      [
        { column: 'title', type: 'string' },
        { column: 'id', type: 'uuid' },
      ],
      (rows: object[]) => rows.map((r) => courseRecord.fromRow(r)),
    );
  }

  /**
   * Records that a staff member of a partner completed a course. The firm runs the training
   * and records it: a certification counts toward a tier, so the partner cannot grant its own.
   */
  async recordCompletion(uow: UnitOfWork, input: { courseId: string; personId: string; partnerId: string; completedAt?: string }, now = new Date()): Promise<Certification> {
    const tables = this.deps.db.in(uow);
    const course = await tables(COURSES).where('id', input.courseId).first('id', 'title', 'validity_days');
    if (!course) throw new ValidationError(`prm: course ${input.courseId} does not exist`, [{ path: 'courseId', message: 'unknown course' }]);
    const staff = await this.deps.relationships.query(uow, { type: STAFF_TYPE, fromPartyId: input.personId, toPartyId: input.partnerId, status: 'active' }).first('id');
    if (!staff) throw new ValidationError(`prm: person ${input.personId} is not active staff of ${input.partnerId}`, [{ path: 'personId', message: 'not active staff of the partner' }]);
    const completedAt = input.completedAt ? new Date(input.completedAt) : now;
    if (completedAt.getTime() > now.getTime()) throw new ValidationError('prm: a course cannot be completed in the future', [{ path: 'completedAt', message: 'in the future' }]);
    const expiresAt = course.validity_days === null ? null : new Date(completedAt.getTime() + course.validity_days * DAY_MS);
    const [row] = await tables(CERTIFICATIONS)
      .insert({ id: newId(), course_id: input.courseId, person_id: input.personId, partner_id: input.partnerId, completed_at: completedAt, expires_at: expiresAt, created_at: now })
      .returning(certificationRecord.columns());
    const certification = toCertification(row, now);
    await this.deps.interactions.create(uow, {
      type: 'prm.certification',
      direction: 'outbound',
      subject: `Certified: ${course.title}`,
      occurredAt: completedAt.toISOString(),
      participants: [
        { partyId: input.personId, role: 'staff' },
        { partyId: input.partnerId, role: 'partner' },
      ],
      attributes: { certificationId: certification.id, courseId: course.id },
    });
    uow.emit(prm.events.certificationRecorded, { certification }, { type: 'prm.certification', id: certification.id });
    return certification;
  }

  async getCertification(ctx: QueryContext, id: string, now = new Date()): Promise<Certification> {
    const row = await this.certifications(ctx).where('id', id).first(certificationRecord.columns());
    if (!row) throw notFound('certification', id);
    return toCertification(row, now);
  }

  listCertifications(
    ctx: QueryContext,
    query: { partnerId?: string; personId?: string; courseId?: string; valid?: boolean; limit: number; cursor?: string },
    now = new Date(),
  ): Promise<Page<Certification>> {
    const q = this.certifications(ctx).select(certificationRecord.columns());
    if (query.partnerId) q.where('partner_id', query.partnerId);
    if (query.personId) q.where('person_id', query.personId);
    if (query.courseId) q.where('course_id', query.courseId);
    if (query.valid === true) q.where((w) => w.whereNull('expires_at').orWhere('expires_at', '>', now));
    if (query.valid === false) q.where('expires_at', '<=', now);
    return keysetPage(q, query, newestFirst('completed_at'), (rows: object[]) => rows.map((r) => toCertification(r, now)));
  }

  /**
   * Staff of the partner (active `prm.staff` now) holding at least one certification that has
   * not expired: the `certifiedStaff` tier metric. One query.
   */
  async certifiedStaff(ctx: QueryContext, partnerId: string, now: Date): Promise<number> {
    const tables = this.deps.db.in(ctx);
    const row = await tables(CERTIFICATIONS)
      .where('partner_id', partnerId)
      .whereIn('person_id', this.deps.relationships.query(ctx, { type: STAFF_TYPE, toPartyId: partnerId, status: 'active' }).select('from_party_id'))
      .where((w) => w.whereNull('expires_at').orWhere('expires_at', '>', now))
      .first(tables.raw('count(distinct person_id)::int as n'));
    return Number(row?.n ?? 0);
  }

  private certifications(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(CERTIFICATIONS), ctx, 'prm.certifications', 'id');
  }
}

function toCertification(row: object, now: Date): Certification {
  const expiresAt = (row as { expires_at: Date | string | null }).expires_at;
  return certificationRecord.fromRow(row, { valid: expiresAt === null || new Date(expiresAt) > now });
}
