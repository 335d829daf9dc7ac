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
import './events.js';

export type * from './types.js';
export type { HrmOptions } from './options.js';
export { PERMISSIONS as HRM_PERMISSIONS, TYPES as HRM_RELATIONSHIP_TYPES, INTERACTIONS as HRM_INTERACTION_TYPES, INDICATORS as HRM_INDICATORS } from './declarations.js';
export { enps } from './services/engagement.js';
export { retentionRisk, RETENTION_WEIGHTS, type RetentionFactor, type RetentionSignals } from './services/retention.js';
export { finalScore, DEFAULT_FORMULA, type ScoreFormula } from './services/performance.js';

/** HRM with options (an injected clock, the default anonymity threshold). */
export function createHrmPlugin(options: HrmOptions = {}): PluginDefinition {
  const resolved = resolveOptions(options);
  return definePlugin({
    name: 'hrm',
    version: '0.1.0',
    requires: { core: '^0.1.0' },
    migrations: hrmMigrations,
    setup(api) {
      declare(api);
      api.routes((r) => {
        orgRoutes(r);
        peopleRoutes(r);
        surveyRoutes(r, resolved);
        deskRoutes(r, resolved);
        performanceRoutes(r, resolved);
        announcementRoutes(r, resolved);
        retentionRoutes(r, resolved);
      });
    },
  });
}

export default createHrmPlugin();
