import { z } from 'zod';
import type { KernelModule } from '../app/module.js';
import { idParams, pageOf, pageQuery } from '../http/pagination.js';
import type { RouteBuilder } from '../http/routes.js';
import type { PermissionDefinition } from '../kernel/types.js';
import type { AutomationActions } from './actions.js';
import { dryRunSchema, runSchema, type AutomationEngine } from './engine.js';
import { ruleCreateSchema, ruleSchema, ruleUpdateSchema, type RuleService } from './rules.js';

export const AUTOMATION_PERMISSIONS: readonly PermissionDefinition[] = [
  { key: 'automation:read', description: 'Read automation rules, their runs and dry-runs' },
  { key: 'automation:manage', description: 'Create, change and delete automation rules (they act for the whole tenant)' },
];

export function automationModule(engine: AutomationEngine, rules: RuleService, actions: AutomationActions): KernelModule {
  return {
    name: 'automation',
    permissions: AUTOMATION_PERMISSIONS,
    routes: (r) => automationRoutes(r, engine, rules, actions),
    start: () => engine.start(),
    stop: () => engine.stop(),
  };
}

function automationRoutes(r: RouteBuilder, engine: AutomationEngine, rules: RuleService, actions: AutomationActions): void {
  const tags = ['Automation'];

  r.get('/automation/actions', {
    summary: "The actions rules can use: the kernel's and those of enabled plugins",
    tags,
    permission: 'automation:read',
    response: z.object({ data: z.array(z.object({ name: z.string(), owner: z.string(), description: z.string().nullable(), params: z.array(z.string()) })) }),
    handler: () => ({
      data: actions.list().map((a) => ({
        name: a.name,
        owner: a.owner,
        description: a.description ?? null,
        params: a.params instanceof z.ZodObject ? Object.keys(a.params.shape) : [],
      })),
    }),
  });

  r.get('/automation/rules', {
    summary: 'Automation rules, newest first',
    tags,
    permission: 'automation:read',
    query: z.strictObject(pageQuery),
    response: pageOf(ruleSchema),
    handler: (ctx) => rules.list(ctx, ctx.query),
  });

  r.post('/automation/rules', {
    summary: 'Create an automation rule',
    description:
      'A trigger (`{ "event": "crm.deal.won" }`, a pattern such as `prm.*`, or `{ "schedule": { "everyMinutes": 60 } }`), conditions (JSON Logic over ' +
      '`{ event, payload, record }`) and actions (`{ "type": "create-interaction", "params": { … } }`, each parameter a JSON Logic expression). ' +
      'A part that does not hold together is a 400 naming it (`actions[1].params.partyIds`). See docs/automation.md.',
    tags,
    permission: 'automation:manage',
    body: ruleCreateSchema,
    response: ruleSchema,
    handler: (ctx) => ctx.transaction((uow) => rules.create(uow, ctx.body)),
  });

  r.get('/automation/rules/:id', {
    summary: 'An automation rule',
    tags,
    permission: 'automation:read',
    params: idParams,
    response: ruleSchema,
    handler: (ctx) => rules.get(ctx, ctx.params.id),
  });

  r.patch('/automation/rules/:id', {
    summary: 'Change an automation rule',
    tags,
    permission: 'automation:manage',
    params: idParams,
    body: ruleUpdateSchema,
    requireIfMatch: true,
    response: ruleSchema,
    handler: (ctx) => ctx.transaction((uow) => rules.update(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.delete('/automation/rules/:id', {
    summary: 'Delete an automation rule (its queued runs are skipped; its run log goes with it)',
    tags,
    permission: 'automation:manage',
    params: idParams,
    status: 204,
    handler: async (ctx) => {
      await ctx.transaction((uow) => rules.delete(uow, ctx.params.id));
    },
  });

  r.get('/automation/rules/:id/runs', {
    summary: "A rule's runs, newest first: what it did on each event, or why it did nothing",
    tags,
    permission: 'automation:read',
    params: idParams,
    query: z.strictObject({ ...pageQuery, status: z.enum(['pending', 'succeeded', 'skipped', 'failed']).optional() }),
    response: pageOf(runSchema),
    handler: async (ctx) => {
      await rules.get(ctx, ctx.params.id);
      return engine.runs(ctx, ctx.params.id, ctx.query);
    },
  });

  r.post('/automation/rules/:id/dry-run', {
    summary: 'What the rule would do on a past event (writes nothing)',
    description: "Evaluates the trigger, the conditions and every action's parameters against the event as it is in the outbox, and changes nothing.",
    tags,
    permission: 'automation:read',
    params: idParams,
    body: z.strictObject({ eventId: z.uuid() }),
    status: 200,
    response: dryRunSchema,
    handler: async (ctx) => engine.dryRun(ctx, await rules.get(ctx, ctx.params.id), ctx.body.eventId),
  });
}
