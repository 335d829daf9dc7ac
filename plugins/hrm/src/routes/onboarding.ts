import { z } from 'zod';
import { idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { ONBOARDING_OWNERS, onboardingChecklistSchema, onboardingItemSchema, onboardingTemplateSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { HrmServices } from '../services/index.js';
import { name } from './inputs.js';

const templateItem = z.strictObject({ title: z.string().trim().min(1).max(300), owner: z.enum(ONBOARDING_OWNERS), dueDays: z.number().int().min(0).max(365) });

/** Onboarding checklists: templates are HR's; employees (scoped principals) read and tick their own, managers their reports'. */
export function onboardingRoutes(r: RouteBuilder, { onboarding }: HrmServices): void {
  r.post('/onboarding/templates', {
    summary: 'Define an onboarding checklist for a unit (and its subunits) and/or a position; new employments that fit get its items',
    permission: PERMISSIONS.onboardingManage,
    body: z.strictObject({ name, unitId: z.uuid().nullable().optional(), positionId: z.uuid().nullable().optional(), items: z.array(templateItem).min(1).max(100) }),
    response: onboardingTemplateSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => onboarding.createTemplate(uow, ctx.body)),
  });

  r.get('/onboarding/templates', {
    summary: 'List onboarding checklist templates',
    permission: PERMISSIONS.onboardingManage,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(onboardingTemplateSchema),
    handler: (ctx) => onboarding.listTemplates(ctx, ctx.query),
  });

  r.get('/employees/:id/onboarding', {
    summary: "An employee's onboarding checklist with progress (scoped: its own, its reports' with hrm.team:read)",
    permission: PERMISSIONS.onboardingRead,
    audience: 'any',
    params: idParams,
    response: onboardingChecklistSchema,
    handler: (ctx) => onboarding.checklist(ctx, ctx.params.id),
  });

  r.post('/onboarding/items/:id/done', {
    summary: "Tick an onboarding item: the employee its own items, a manager (hrm.team:read) its reports' manager items, HR any; recorded on the timeline",
    permission: PERMISSIONS.onboardingWrite,
    audience: 'any',
    params: idParams,
    response: onboardingItemSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => onboarding.tick(uow, ctx.params.id)),
  });
}
