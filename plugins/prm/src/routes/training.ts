import { z } from 'zod';
import { booleanQuery, idParams, isoTimestamp, pageOf, pageQuery, type Rapport, type RouteBuilder } from '@rapport/core';
import { TrainingService } from '../services/training.js';

const courseSchema = z.object({ id: z.uuid(), title: z.string(), description: z.string().nullable(), validityDays: z.number().int().nullable(), createdAt: z.string() });
const certificationSchema = z.object({
  id: z.uuid(),
  courseId: z.uuid(),
  personId: z.uuid(),
  partnerId: z.uuid(),
  completedAt: z.string(),
  expiresAt: z.string().nullable(),
  valid: z.boolean(),
  createdAt: z.string(),
});
const ctxOf = (ctx: { db: any; tenantId: string; principal: any }) => ({ db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal });

export function trainingRoutes(r: RouteBuilder): void {
  const training = (ctx: { app: Rapport }) => new TrainingService(ctx.app);

  r.get('/courses', {
    summary: 'List training courses (the catalogue every partner may train for)',
    tags: ['prm'],
    permission: 'prm.training:read',
    response: z.object({ data: z.array(courseSchema) }),
    handler: async (ctx) => ({ data: await training(ctx).listCourses(ctxOf(ctx)) }),
  });
  r.post('/courses', {
    summary: 'Define a course; validityDays sets how long its certification lasts',
    tags: ['prm'],
    permission: 'prm.training:write',
    body: z.strictObject({ title: z.string().trim().min(1).max(200), description: z.string().max(5000).optional(), validityDays: z.number().int().min(1).max(3650).optional() }),
    response: courseSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => training(ctx).createCourse(uow, ctx.body)),
  });
  r.get('/certifications', {
    summary: 'List certifications (a partner: those of its staff)',
    tags: ['prm'],
    permission: 'prm.training:read',
    query: z.strictObject({ ...pageQuery, partnerId: z.uuid().optional(), personId: z.uuid().optional(), courseId: z.uuid().optional(), valid: booleanQuery.optional() }),
    response: pageOf(certificationSchema),
    handler: (ctx) => training(ctx).listCertifications(ctxOf(ctx), ctx.query),
  });
  r.post('/certifications', {
    summary: 'Record that a partner staff member completed a course',
    tags: ['prm'],
    permission: 'prm.training:write',
    body: z.strictObject({ courseId: z.uuid(), personId: z.uuid(), partnerId: z.uuid(), completedAt: isoTimestamp.optional() }),
    response: certificationSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => training(ctx).recordCompletion(uow, ctx.body)),
  });
  r.get('/certifications/:id', {
    summary: 'Get a certification',
    tags: ['prm'],
    permission: 'prm.training:read',
    params: idParams,
    response: certificationSchema,
    handler: (ctx) => training(ctx).getCertification(ctxOf(ctx), ctx.params.id),
  });
}
