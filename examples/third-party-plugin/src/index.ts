import { definePlugin, VetoError } from '@rapport/core';
import packageJson from '../package.json' with { type: 'json' };
import { loyalty } from './contract.js';
import { declare } from './declarations.js';
import { loyaltyDeps } from './deps.js';
import { awardOnDealWon } from './hooks/deal-won.js';
import { loyaltyMigrations } from './migrations.js';
import { loyaltyRoutes } from './routes/index.js';
import { LedgerService } from './services/ledger.js';

export { loyalty } from './contract.js';
export { POINTS_PER_AMOUNT } from './hooks/deal-won.js';
export { LedgerService } from './services/ledger.js';
export type { LedgerEntry, Movement, Balance, Tier } from './records.js';

/**
 * Customer loyalty points — a plugin outside the first-party set, written only against the
 * public API of @rapport/core and CRM's contract. Works alone; with the CRM installed, won
 * deals earn points.
 */
export default definePlugin({
  name: 'loyalty',
  version: packageJson.version,
  description: 'Customer loyalty points: membership, a points ledger, redemptions, points for won deals',
  requires: { core: '^0.1.0' },
  contract: loyalty,
  deps: loyaltyDeps,
  migrations: loyaltyMigrations,
  setup(api, deps) {
    declare(api);
    const ledger = new LedgerService(deps);
    // Archiving a member who still holds points would silently forfeit them: refuse it.
    api.hooks.filter('party.archive', async ({ party }, uow) => {
      const balance = await ledger.balanceOf(uow, party.id);
      if (balance > 0) throw new VetoError(`loyalty: party ${party.id} still holds ${balance} points; redeem or expire them before archiving it`);
    });
    awardOnDealWon(api, deps, ledger);
    api.routes((r) => loyaltyRoutes(r, ledger));
  },
});
