import { definePlugin, type PluginApi } from '@rapport/core';
import packageJson from '../package.json' with { type: 'json' };
import { SWEEP_TASK, prm } from '@rapport/prm-contract';
import { declareModel, declareScopes } from './declarations.js';
import { prmDeps, type PrmDeps } from './deps.js';
import { registerGuards } from './hooks/guards.js';
import { declareFederation } from './federation/documents.js';
import { partnersImporter, suppliersImporter } from './importers/partnerships.js';
import { prmMigrations } from './migrations/index.js';
import { resolveOptions, type PrmOptions, type ResolvedPrmOptions } from './options.js';
import { collaborationRoutes } from './routes/collaboration.js';
import { leadRoutes } from './routes/leads.js';
import { mdfRoutes } from './routes/mdf.js';
import { onboardingRoutes } from './routes/onboarding.js';
import { programRoutes } from './routes/programs.js';
import { registrationRoutes } from './routes/registrations.js';
import { supplyRoutes } from './routes/supply.js';
import { trainingRoutes } from './routes/training.js';
import { DocumentService } from './services/documents.js';
import { LeadService } from './services/leads.js';
import { MdfService } from './services/mdf.js';
import { OnboardingService } from './services/onboarding.js';
import { OrderService } from './services/orders.js';
import { PartnerScorecardService } from './services/partner-scorecard.js';
import { Partnerships } from './services/partnerships.js';
import { PlanService } from './services/plans.js';
import { PortalParties } from './services/portal.js';
import { ProgramService } from './services/programs.js';
import { RegistrationService } from './services/registrations.js';
import { RfqService } from './services/rfqs.js';
import { ScorecardService } from './services/scorecard.js';
import { SupplyChain } from './services/supply.js';
import { ExpirySweep } from './services/sweep.js';
import { TrainingService } from './services/training.js';

export * from '@rapport/prm-contract';
export type { PrmOptions } from './options.js';

/** The PRM plugin with these options (`plugins: [createPrmPlugin({ protectionDays: 60 })]`). */
export function createPrmPlugin(options: PrmOptions = {}) {
  const resolved = resolveOptions(options);
  return definePlugin({
    name: 'prm',
    version: packageJson.version,
    description: 'Sales-channel partners and suppliers on mutual terms',
    requires: { core: '^0.1.0' },
    contract: prm,
    deps: prmDeps,
    migrations: prmMigrations,
    setup(api, deps) {
      compose(api, deps, resolved);
    },
  });
}

/** Declares the model, builds each service once and registers what uses them. */
function compose(api: PluginApi, deps: PrmDeps, options: ResolvedPrmOptions): void {
  const portal = new PortalParties(deps);
  const partnerships = new Partnerships(deps);
  const supply = new SupplyChain(deps, partnerships);
  const training = new TrainingService(deps);
  const programs = new ProgramService(deps, portal, partnerships, training);
  const registrations = new RegistrationService(deps, options, portal, partnerships);
  const leads = new LeadService(deps, options.leadResponseHours);
  const expiry = new ExpirySweep(deps, registrations, leads);

  declareModel(api);
  declareScopes(api, deps, portal);
  registerGuards(api, deps);
  api.provide(prm.services.leads, leads);
  api.provide(prm.services.expiry, expiry);
  api.importers.define(partnersImporter(deps));
  api.importers.define(suppliersImporter(deps));
  // Protection periods and lead-offer deadlines run out by themselves; this sweep records it.
  api.schedule.every(SWEEP_TASK, options.sweepIntervalMs, async ({ now, signal }) => {
    await expiry.run(now, signal);
  });
  const rfqs = new RfqService(deps, portal, supply);
  const orders = new OrderService(deps, supply);
  // Documents exchanged with linked systems (docs/federation.md).
  declareFederation(api, deps, { rfqs, orders, registrations, leads });
  api.routes((r) => {
    onboardingRoutes(r, new OnboardingService(deps, portal, partnerships));
    registrationRoutes(r, registrations);
    supplyRoutes(r, {
      rfqs,
      orders,
      scorecards: new ScorecardService(deps, options, portal, partnerships),
    });
    mdfRoutes(r, new MdfService(deps, portal, partnerships));
    programRoutes(r, { programs, scorecards: new PartnerScorecardService(deps, portal, partnerships, programs) });
    leadRoutes(r, leads);
    trainingRoutes(r, training);
    collaborationRoutes(r, { plans: new PlanService(deps, portal, partnerships), documents: new DocumentService(deps, portal, partnerships) });
  });
}

export default createPrmPlugin();
