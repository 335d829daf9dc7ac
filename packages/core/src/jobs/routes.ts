import { z } from 'zod';
import type { KernelModule } from '../app/module.js';
import type { PermissionDefinition } from '../kernel/types.js';
import { JOBS_MANAGE_PERMISSION, JOBS_READ_PERMISSION, type JobService } from './jobs.js';
import { AUTHENTICATED } from '../access/principal.js';
import { idParams, pageOf, pageQuery } from '../http/pagination.js';
import type { RouteBuilder } from '../http/routes.js';
import { JOB_STATUSES, jobSchema } from './schemas.js';

/**
 * Background jobs. Any principal reads and cancels its own; `jobs:read` shows every job of
 * the tenant and `jobs:manage` cancels any. Someone else's job, or another tenant's, is a 404.
 */
export const JOB_PERMISSIONS: readonly PermissionDefinition[] = [
  { key: JOBS_READ_PERMISSION, description: 'Read every background job of the tenant (everyone reads their own)' },
  { key: JOBS_MANAGE_PERMISSION, description: 'Cancel any background job of the tenant (everyone cancels their own)' },
];

export function jobsModule(app: { readonly jobs: JobService }): KernelModule {
  return { name: 'jobs', permissions: JOB_PERMISSIONS, routes: (r) => jobRoutes(r, app), stop: () => app.jobs.stop() };
}

function jobRoutes(r: RouteBuilder, app: { readonly jobs: JobService }): void {
  const tags = ['Jobs'];

  r.get('/jobs', {
    summary: 'List background jobs',
    description: 'The caller’s own jobs, newest first; with `jobs:read`, every job of the tenant.',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, status: z.enum(JOB_STATUSES).optional(), kind: z.string().max(100).optional() }),
    response: pageOf(jobSchema),
    handler: ({ query, principal }) => app.jobs.list(principal, query),
  });

  r.get('/jobs/:id', {
    summary: 'Get a background job with its progress and result',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    params: idParams,
    response: jobSchema,
    handler: ({ params, principal }) => app.jobs.get(principal, params.id),
  });

  r.post('/jobs/:id/cancel', {
    summary: 'Cancel a queued or running job',
    description: 'The job is marked cancelled at once and stops at its next safe point; what it wrote before stays. 409 when it already finished.',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    params: idParams,
    status: 200,
    response: jobSchema,
    handler: ({ params, principal }) => app.jobs.cancel(principal, params.id),
  });
}
