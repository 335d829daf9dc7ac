import type { Rapport } from '../app/rapport.js';
import { RouteBuilder } from './routes.js';
import { partyRoutes } from './kernel/parties.js';
import { interactionRoutes, observationRoutes, relationshipRoutes } from './kernel/records.js';
import { metaRoutes, pluginRoutes } from './kernel/meta.js';
import { accessRoutes } from '../access/routes.js';
import { webhookRoutes } from '../webhooks/routes.js';
import { jobRoutes } from '../jobs/routes.js';
import { importRoutes } from '../import/routes.js';

/** Every kernel route, under /api/v1. */
export function kernelRoutes(app: Rapport): RouteBuilder {
  const r = new RouteBuilder('core', '/api/v1');
  partyRoutes(r, app);
  relationshipRoutes(r, app);
  interactionRoutes(r, app);
  observationRoutes(r, app);
  metaRoutes(r, app);
  pluginRoutes(r, app);
  accessRoutes(r, app);
  webhookRoutes(r, app);
  jobRoutes(r, app);
  importRoutes(r, app);
  return r;
}
