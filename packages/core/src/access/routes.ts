import type { Rapport } from '../app/rapport.js';
import type { RouteBuilder } from '../http/routes.js';

/** Users, login, API keys, roles and the audit log. */
export function accessRoutes(_r: RouteBuilder, _app: Rapport): void {}
