import { hasPermission, type Principal, type QueryContext, type RequestContext } from '@rapport/core';
import { PERMISSIONS, SCOPES } from '../declarations.js';

export function queryContext(ctx: RequestContext<any, any, any>): QueryContext {
  return { db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal };
}

/** Which employees a scoped caller reaches: itself, plus everyone below it in the reporting tree with hrm.team:read. */
export function employeeScope(principal: Principal): string {
  return hasPermission(principal, PERMISSIONS.teamRead) ? SCOPES.team : SCOPES.self;
}

export const iso = (value: Date | string | null | undefined): string | null => (value == null ? null : new Date(value).toISOString());
