import { definePlugin } from '@rapport/core';
import { declareModel, declareScopes } from './declarations.js';
import { declareGuards } from './hooks/guards.js';
import { prmMigrations } from './migrations/index.js';
import { mdfRoutes } from './routes/mdf.js';
import { onboardingRoutes } from './routes/onboarding.js';
import { programRoutes } from './routes/programs.js';
import { registrationRoutes } from './routes/registrations.js';
import { supplyRoutes } from './routes/supply.js';
import type { PrmOptions, ResolvedPrmOptions } from './types.js';

export * from './types.js';
export type { RegistrationInput } from './services/registrations.js';
export type { SupplierScorecard } from './services/scorecard.js';
export { TIER_METRICS, type Program, type Tier, type TierStanding } from './services/programs.js';
export { SUPPLIER_STANDINGS, type SupplierStanding } from './services/supply.js';

const DEFAULT_WEIGHTS = { onTime: 0.35, quality: 0.35, price: 0.15, responsiveness: 0.15 };

export function resolveOptions(options: PrmOptions = {}): ResolvedPrmOptions {
  const protectionDays = options.protectionDays ?? 90;
  if (!Number.isFinite(protectionDays) || protectionDays <= 0) throw new Error('prm: protectionDays must be a positive number');
  const scorecardWeights = { ...DEFAULT_WEIGHTS, ...options.scorecardWeights };
  if (Object.values(scorecardWeights).some((w) => !Number.isFinite(w) || w < 0) || Object.values(scorecardWeights).every((w) => w === 0)) {
    throw new Error('prm: scorecardWeights must be non-negative and not all zero');
  }
  return { protectionDays, firstToFile: options.firstToFile ?? true, scorecardWeights };
}

/** The PRM plugin with these options (`plugins: [createPrmPlugin({ protectionDays: 60 })]`). */
export function createPrmPlugin(options: PrmOptions = {}) {
  const resolved = resolveOptions(options);
  return definePlugin({
    name: 'prm',
    version: '0.1.0',
    description: 'Sales-channel partners and suppliers on mutual terms',
    requires: { core: '^0.1.0' },
    migrations: prmMigrations,
    setup(api) {
      declareModel(api);
      declareScopes(api);
      declareGuards(api);
      api.routes((r) => {
        onboardingRoutes(r);
        registrationRoutes(r, resolved);
        supplyRoutes(r, resolved);
        mdfRoutes(r);
        programRoutes(r);
      });
    },
  });
}

export default createPrmPlugin();
