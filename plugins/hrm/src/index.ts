import { definePlugin, type PluginDefinition } from '@rapport/core';
import { declare } from './declarations.js';
import { hrmMigrations } from './migrations/index.js';
import { resolveOptions, type HrmOptions } from './options.js';
import { orgRoutes } from './routes/org.js';
import { peopleRoutes } from './routes/people.js';
import { surveyRoutes } from './routes/surveys.js';
import { deskRoutes } from './routes/desk.js';
import { performanceRoutes } from './routes/performance.js';
import { announcementRoutes } from './routes/announcements.js';
import { retentionRoutes } from './routes/retention.js';
import { recruitingRoutes } from './routes/recruiting.js';
import { onboardingRoutes } from './routes/onboarding.js';
import { exitRoutes } from './routes/exits.js';
import { registerHooks } from './hooks/index.js';
import { sweepSlaBreaches } from './services/sla.js';
import { employeesImporter } from './importers/employees.js';
import './events.js';

export type * from './types.js';
export type { HrmOptions } from './options.js';
export { PERMISSIONS as HRM_PERMISSIONS, TYPES as HRM_RELATIONSHIP_TYPES, INTERACTIONS as HRM_INTERACTION_TYPES, INDICATORS as HRM_INDICATORS } from './declarations.js';
export { enps } from './services/engagement.js';
export { retentionRisk, RETENTION_WEIGHTS, type RetentionFactor, type RetentionSignals, type RetentionWeights } from './services/retention.js';
export { recordSlaBreaches, sweepSlaBreaches } from './services/sla.js';
export { finalScore, DEFAULT_FORMULA, type ScoreFormula } from './services/performance.js';

/** The scheduled task recording SLA breaches (`rapport.scheduler.runNow(SLA_SWEEP_TASK)` runs it at once). */
export const SLA_SWEEP_TASK = 'hrm.sla-sweep';

/** HRM with options (an injected clock, the default anonymity threshold). */
export function createHrmPlugin(options: HrmOptions = {}): PluginDefinition {
  const resolved = resolveOptions(options);
  return definePlugin({
    name: 'hrm',
    version: '0.1.0',
    requires: { core: '^0.1.0' },
    migrations: hrmMigrations,
    setup(api) {
      declare(api, resolved);
      registerHooks(api, resolved);
      // SLA breaches are recorded by a sweep, as of the plugin clock (the one `breached` is computed by).
      api.schedule.every(SLA_SWEEP_TASK, resolved.slaSweepIntervalMs, async ({ rapport, signal }) => {
        await sweepSlaBreaches(rapport, resolved.now(), signal);
      });
      api.importers.define(employeesImporter(resolved));
      api.routes((r) => {
        orgRoutes(r);
        peopleRoutes(r);
        surveyRoutes(r, resolved);
        deskRoutes(r, resolved);
        performanceRoutes(r, resolved);
        announcementRoutes(r, resolved);
        retentionRoutes(r, resolved);
        recruitingRoutes(r, resolved);
        onboardingRoutes(r, resolved);
        exitRoutes(r, resolved);
      });
    },
  });
}

export default createHrmPlugin();
