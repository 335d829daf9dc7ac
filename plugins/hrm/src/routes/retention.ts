import { z } from 'zod';
import { idParams, type RouteBuilder } from '@rapport/core';
import { retentionRiskSchema, retentionWeightsSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { HrmServices } from '../services/index.js';

const weight = z.number().finite().min(0).max(100);
const weightsBody = z.strictObject({ tenure: weight, 'manager-change': weight, 'review-trend': weight, 'engagement-trend': weight, 'open-grievances': weight });

/**
 * Retention risk. A scoped manager (hrm.team:read) reads and records its reports' risk, never its
 * own; the weights are a tenant-wide setting only the firm changes.
 */
export function retentionRoutes(r: RouteBuilder, { retention }: HrmServices): void {
  r.get('/settings/retention-weights', {
    summary: "The tenant's retention-risk weights (the defaults until it sets its own)",
    permission: PERMISSIONS.retentionRead,
    audience: 'any',
    response: retentionWeightsSchema,
    handler: (ctx) => retention.weights(ctx),
  });

  r.put('/settings/retention-weights', {
    summary: 'Set the retention-risk weights of the tenant: every factor, each 0–100, summing to 100 (If-Match: the version, once set)',
    permission: PERMISSIONS.retentionWrite,
    body: weightsBody,
    response: retentionWeightsSchema,
    handler: (ctx) => ctx.transaction((uow) => retention.setWeights(uow, ctx.body, ctx.ifMatch)),
  });

  r.get('/employees/:id/retention-risk', {
    summary: 'Retention risk of an employee (0–100) with the factors behind it',
    permission: PERMISSIONS.retentionRead,
    audience: 'any',
    params: idParams,
    response: retentionRiskSchema,
    handler: (ctx) => retention.assess(ctx, ctx.params.id),
  });

  r.post('/employees/:id/retention-risk', {
    summary: 'Record the current retention risk as an hrm.retention-risk observation (the factors in its details)',
    permission: PERMISSIONS.retentionWrite,
    audience: 'any',
    params: idParams,
    response: retentionRiskSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => retention.record(uow, ctx.params.id)),
  });
}
