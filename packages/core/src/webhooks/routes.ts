import type { Rapport } from '../app/rapport.js';
import type { RouteBuilder } from '../http/routes.js';

/** Webhook subscriptions and their delivery logs. */
export function webhookRoutes(_r: RouteBuilder, _app: Rapport): void {}
