import { definePlugin } from '@rapport/core';
import { declareModel, declareScopes } from './declarations.js';
import { declareGuards } from './hooks/guards.js';
import { prmMigrations } from './migrations/index.js';
import { partnersImporter, suppliersImporter } from './importers/partnerships.js';
import { sweepExpired } from './services/sweep.js';
import { collaborationRoutes } from './routes/collaboration.js';
import { leadRoutes } from './routes/leads.js';
import { mdfRoutes } from './routes/mdf.js';
import { onboardingRoutes } from './routes/onboarding.js';
import { programRoutes } from './routes/programs.js';
import { registrationRoutes } from './routes/registrations.js';
import { supplyRoutes } from './routes/supply.js';
import { trainingRoutes } from './routes/training.js';
import type { PrmOptions, ResolvedPrmOptions } from './types.js';

export * from './types.js';
export type { RegistrationInput } from './services/registrations.js';
export type { SupplierScorecard } from './services/scorecard.js';
export { TIER_METRICS, type Program, type Tier, type TierStanding } from './services/programs.js';
export { SUPPLIER_STANDINGS, type SupplierStanding } from './services/supply.js';

/** The scheduled expiry sweep (`rapport.scheduler.runNow(SWEEP_TASK)` runs it at once). */
export const SWEEP_TASK = 'prm.sweep-expired';
export { sweepExpired, type SweepResult } from './services/sweep.js';

const DEFAULT_WEIGHTS = { onTime: 0.35, quality: 0.35, price: 0.15, responsiveness: 0.15 };

export function resolveOptions(options: PrmOptions = {}): ResolvedPrmOptions {
  const protectionDays = options.protectionDays ?? 90;
  if (!Number.isFinite(protectionDays) || protectionDays <= 0) throw new Error('prm: protectionDays must be a positive number');
  const scorecardWeights = { ...DEFAULT_WEIGHTS, ...options.scorecardWeights };
  if (Object.values(scorecardWeights).some((w) => !Number.isFinite(w) || w < 0) || Object.values(scorecardWeights).every((w) => w === 0)) {
    throw new Error('prm: scorecardWeights must be non-negative and not all zero');
  }
  const leadResponseHours = options.leadResponseHours ?? 48;
  if (!Number.isFinite(leadResponseHours) || leadResponseHours <= 0) throw new Error('prm: leadResponseHours must be a positive number');
  const sweepIntervalMs = options.sweepIntervalMs ?? 5 * 60_000;
  if (!Number.isInteger(sweepIntervalMs) || sweepIntervalMs < 1000) throw new Error('prm: sweepIntervalMs must be an integer of at least 1000');
  return { protectionDays, firstToFile: options.firstToFile ?? true, scorecardWeights, leadResponseHours, sweepIntervalMs };
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
      api.importers.define(partnersImporter);
      api.importers.define(suppliersImporter);
      // Protection periods and lead-offer deadlines run out by themselves; this sweep records it.
      api.schedule.every(SWEEP_TASK, resolved.sweepIntervalMs, async ({ rapport, now, signal }) => {
        await sweepExpired(rapport, resolved, now, signal);
      });
      api.routes((r) => {
        onboardingRoutes(r);
        registrationRoutes(r, resolved);
        supplyRoutes(r, resolved);
        mdfRoutes(r);
        programRoutes(r);
        leadRoutes(r, resolved);
        trainingRoutes(r);
        collaborationRoutes(r);
      });
    },
  });
}

export default createPrmPlugin();
