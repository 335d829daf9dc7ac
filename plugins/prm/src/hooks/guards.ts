import { VetoError, type PluginApi } from '@rapport/core';
import type { PrmDeps } from '../deps.js';
import { PARTNER_TYPE, SUPPLIER_TYPE } from '../services/portal.js';

const FIRM_END: Record<string, 'fromPartyId' | 'toPartyId'> = { [PARTNER_TYPE]: 'fromPartyId', [SUPPLIER_TYPE]: 'toPartyId' };
const FIRST_STATUS: Record<string, string> = { [PARTNER_TYPE]: 'application', [SUPPLIER_TYPE]: 'applied' };

/**
 * Kernel writes on PRM relationships: the firm is always the self party at its end, and a
 * portal principal can apply but never approve itself, set its own tier or lift a block.
 * (`prm.staff` is `internalOnly`: the portal cannot name staff at all.)
 */
export function registerGuards(api: PluginApi, { tenants }: Pick<PrmDeps, 'tenants'>): void {
  api.hooks.filter('relationship.create', async ({ input }, uow) => {
    const firmEnd = FIRM_END[input.type];
    if (!firmEnd) return;
    const self = await tenants.selfPartyId(uow);
    if (input[firmEnd] !== self) {
      throw new VetoError(`prm: the firm's end (${firmEnd}) of a ${input.type} relationship must be the self party ${self}`);
    }
    if (uow.principal.scopePartyId) {
      const first = FIRST_STATUS[input.type];
      if (input.status !== undefined && input.status !== first) {
        throw new VetoError(`prm: a ${input.type} relationship opened from the portal starts as "${first}"`, { status: 403, code: 'forbidden' });
      }
      const attributes = input.attributes ?? {};
      if ('tier' in attributes || 'program' in attributes || 'territories' in attributes) {
        throw new VetoError('prm: the program, tier and territories of a partnership are set by the principal', { status: 403, code: 'forbidden' });
      }
    }
  });
  api.hooks.filter('relationship.update', ({ current }, uow) => {
    if (!uow.principal.scopePartyId || !(current.type in FIRM_END)) return;
    throw new VetoError(`prm: a ${current.type} relationship is changed by the firm, not from the portal`, { status: 403, code: 'forbidden' });
  });
}
