import { z } from 'zod';
import { booleanQuery, idParams, isoTimestamp, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { certificationSchema, courseSchema } from '@rapport/prm-contract';
import type { TrainingService } from '../services/training.js';

/** Partners read the catalogue and their staff's certifications (`any`); courses and completions are the firm's (`internal`). */
export function trainingRoutes(r: RouteBuilder, training: TrainingService): void {
  r.get('/courses', {
    summary: 'List training courses (the catalogue every partner may train for)',
    tags: ['prm'],
    permission: 'prm.training:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(courseSchema),
    handler: (ctx) => training.listCourses(ctx, ctx.query),
  });
  r.post('/courses', {
    summary: 'Define a course; validityDays sets how long its certification lasts',
    tags: ['prm'],
    permission: 'prm.training:write',
    body: z.strictObject({ title: z.string().trim().min(1).max(200), description: z.string().max(5000).optional(), validityDays: z.number().int().min(1).max(3650).optional() }),
    response: courseSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => training.createCourse(uow, ctx.body)),
  });
  r.get('/certifications', {
    summary: 'List certifications (a partner: those of its staff)',
    tags: ['prm'],
    permission: 'prm.training:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, partnerId: z.uuid().optional(), personId: z.uuid().optional(), courseId: z.uuid().optional(), valid: booleanQuery.optional() }),
    response: pageOf(certificationSchema),
    handler: (ctx) => training.listCertifications(ctx, ctx.query),
  });
  r.post('/certifications', {
    summary: 'Record that a partner staff member completed a course',
    tags: ['prm'],
    permission: 'prm.training:write',
    body: z.strictObject({ courseId: z.uuid(), personId: z.uuid(), partnerId: z.uuid(), completedAt: isoTimestamp.optional() }),
    response: certificationSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => training.recordCompletion(uow, ctx.body)),
  });
  r.get('/certifications/:id', {
    summary: 'Get a certification',
    tags: ['prm'],
    permission: 'prm.training:read',
    audience: 'any',
    params: idParams,
    response: certificationSchema,
    handler: (ctx) => training.getCertification(ctx, ctx.params.id),
  });
}
