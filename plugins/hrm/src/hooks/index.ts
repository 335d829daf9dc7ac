import { VetoError, type PluginApi } from '@rapport/core';
import { TYPES } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import { instantiateOnboarding } from '../services/onboarding.js';
import { hiresInProgress } from '../services/recruiting.js';

const HRM_TYPES: ReadonlySet<string> = new Set(Object.values(TYPES));

function scopedWrite(type: string): VetoError {
  return new VetoError(`hrm: ${type} relationships are set by HR, not by a principal scoped to a party`, { status: 403, code: 'forbidden' });
}

/** HRM's filters (docs/plugins/hrm.md, Events). */
export function registerHooks(api: PluginApi, options: ResolvedHrmOptions): void {
  // Checklists start with the employment, in its transaction: a failure undoes the hire.
  api.hooks.filter('hrm.employment.start', async (payload, ctx) => {
    await instantiateOnboarding(ctx, payload.employee, payload.employmentId, options);
    return payload;
  });
  // HRM's relationships decide who manages whom, who works where and who applied: HR sets
  // them, never the employee or candidate they are about (a self-made reports-to line would
  // open a colleague's private file and retention risk to its "manager").
  api.hooks.filter('relationship.create', (payload, ctx) => {
    if (ctx.principal.scopePartyId && HRM_TYPES.has(payload.input.type)) throw scopedWrite(payload.input.type);
    return payload;
  });
  api.hooks.filter('relationship.update', (payload, ctx) => {
    if (ctx.principal.scopePartyId && HRM_TYPES.has(payload.current.type)) throw scopedWrite(payload.current.type);
    return payload;
  });
  // A candidacy becomes `hired` only through HRM's hire, which starts the employment with it.
  api.hooks.filter('relationship.update', (payload, ctx) => {
    const { current, patch } = payload;
    if (current.type === TYPES.recruiting && patch.status === 'hired' && current.status !== 'hired' && !hiresInProgress.has(ctx)) {
      throw new VetoError(`hrm: hire candidate ${current.toPartyId} with POST /api/v1/hrm/applications/${current.id}/hire, which starts the employment`);
    }
    return payload;
  });
}
