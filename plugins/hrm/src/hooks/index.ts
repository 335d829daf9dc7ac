import { VetoError, type PluginApi } from '@rapport/core';
import { hrm } from '@rapport/hrm-contract';
import { TYPES } from '../declarations.js';
import type { OnboardingService } from '../services/onboarding.js';
import type { RecruitingService } from '../services/recruiting.js';

/** HRM's filters (docs/plugins/hrm.md, Events). */
export function registerHooks(api: PluginApi, { onboarding, recruiting }: { onboarding: OnboardingService; recruiting: RecruitingService }): void {
  // Checklists start with the employment, in its transaction: a failure undoes the hire.
  api.hooks.filter(hrm.filters.employmentStart, async (payload, uow) => {
    await onboarding.instantiate(uow, [payload]);
    return payload;
  });
  // A candidacy becomes `hired` only through HRM's hire, which starts the employment with it.
  api.hooks.filter('relationship.update', (payload, uow) => {
    const { current, patch } = payload;
    if (current.type === TYPES.recruiting && patch.status === 'hired' && current.status !== 'hired' && !recruiting.isHiring(uow)) {
      throw new VetoError(`hrm: hire candidate ${current.toPartyId} with POST /api/v1/hrm/applications/${current.id}/hire, which starts the employment`);
    }
    return payload;
  });
}
