import { z } from 'zod';
import { booleanQuery, idParams, isoTimestamp, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { taskSchema } from '@rapport/crm-contract';
import type { TaskService } from '../services/tasks.js';

const tags = ['crm'];

export function taskRoutes(r: RouteBuilder, tasks: TaskService): void {
  r.get('/tasks', {
    summary: 'Tasks the caller may see (own tasks only without crm.tasks:all)',
    tags,
    permission: 'crm.tasks:read',
    // A portal reads the tasks assigned to it or about its account (record scope crm.tasks).
    audience: 'any',
    query: z.strictObject({ ...pageQuery, assigneePartyId: z.uuid().optional(), done: booleanQuery.optional() }),
    response: pageOf(taskSchema),
    handler: (ctx) => tasks.list(ctx, ctx.query),
  });

  r.get('/tasks/overdue', {
    summary: 'Open tasks past their due date, most overdue first',
    tags,
    permission: 'crm.tasks:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, assigneePartyId: z.uuid().optional() }),
    response: pageOf(taskSchema),
    handler: (ctx) => tasks.overdue(ctx, ctx.query),
  });

  r.post('/tasks', {
    summary: 'Create a task (assigned to the caller by default)',
    tags,
    permission: 'crm.tasks:write',
    body: z.strictObject({
      title: z.string().trim().min(1).max(300),
      dueAt: isoTimestamp,
      assigneePartyId: z.uuid().nullable().optional(),
      accountId: z.uuid().nullable().optional(),
      dealId: z.uuid().nullable().optional(),
    }),
    response: taskSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => tasks.create(uow, ctx.body)),
  });

  r.get('/tasks/:id', {
    summary: 'One task',
    tags,
    permission: 'crm.tasks:read',
    audience: 'any',
    params: idParams,
    response: taskSchema,
    handler: (ctx) => tasks.get(ctx, ctx.params.id),
  });

  r.patch('/tasks/:id', {
    summary: 'Change or complete a task',
    tags,
    permission: 'crm.tasks:write',
    params: idParams,
    requireIfMatch: true,
    body: z.strictObject({
      title: z.string().trim().min(1).max(300).optional(),
      dueAt: isoTimestamp.optional(),
      assigneePartyId: z.uuid().nullable().optional(),
      done: z.boolean().optional(),
    }),
    response: taskSchema,
    handler: (ctx) => ctx.transaction((uow) => tasks.update(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });
}
