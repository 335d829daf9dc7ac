import { definePlugin } from '@rapport/core';
import packageJson from '../package.json' with { type: 'json' };
import { SLA_SWEEP_TASK, hrm } from '@rapport/hrm-contract';
import { declare } from './declarations.js';
import { hrmDeps } from './deps.js';
import { registerHooks } from './hooks/index.js';
import { employeesImporter } from './importers/employees.js';
import { hrmMigrations } from './migrations/index.js';
import { resolveOptions, type HrmOptions } from './options.js';
import { announcementRoutes } from './routes/announcements.js';
import { deskRoutes } from './routes/desk.js';
import { exitRoutes } from './routes/exits.js';
import { onboardingRoutes } from './routes/onboarding.js';
import { orgRoutes } from './routes/org.js';
import { peopleRoutes } from './routes/people.js';
import { performanceRoutes } from './routes/performance.js';
import { recruitingRoutes } from './routes/recruiting.js';
import { retentionRoutes } from './routes/retention.js';
import { surveyRoutes } from './routes/surveys.js';
import { createServices } from './services/index.js';

export * from '@rapport/hrm-contract';
export type { HrmOptions } from './options.js';

/** HRM with options (an injected clock, the default anonymity threshold, recruiting stages, exit reasons). */
export function createHrmPlugin(options: HrmOptions = {}) {
  const resolved = resolveOptions(options);
  return definePlugin({
    name: 'hrm',
    version: packageJson.version,
    requires: { core: '^0.1.0' },
    contract: hrm,
    deps: hrmDeps,
    migrations: hrmMigrations,
    setup(api, deps) {
      declare(api, deps, resolved);
      const services = createServices(deps, resolved);
      api.provide(hrm.services.slaBreaches, services.sla);
      registerHooks(api, services);
      // SLA breaches are recorded by a sweep, as of the plugin clock (the one `breached` is computed by).
      api.schedule.every(SLA_SWEEP_TASK, resolved.slaSweepIntervalMs, ({ signal }) => services.sla.sweep(signal));
      api.importers.define(employeesImporter(deps, services));
      api.routes((r) => {
        orgRoutes(r, services);
        peopleRoutes(r, services);
        surveyRoutes(r, services);
        deskRoutes(r, services);
        performanceRoutes(r, services);
        announcementRoutes(r, services);
        retentionRoutes(r, services);
        recruitingRoutes(r, services, resolved);
        onboardingRoutes(r, services);
        exitRoutes(r, services, resolved);
      });
    },
  });
}

export default createHrmPlugin();
