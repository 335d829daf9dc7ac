import { VetoError, type PluginApi } from '@rapport/core';
import { TYPES } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import { instantiateOnboarding } from '../services/onboarding.js';
import { hiresInProgress } from '../services/recruiting.js';

/** HRM's filters (docs/plugins/hrm.md, Events). */
export function registerHooks(api: PluginApi, options: ResolvedHrmOptions): void {
  // Checklists start with the employment, in its transaction: a failure undoes the hire.
  api.hooks.filter('hrm.employment.start', async (payload, ctx) => {
    await instantiateOnboarding(ctx, payload.employee, payload.employmentId, options);
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
