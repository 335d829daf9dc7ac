/**
 * @rapport/client — a typed HTTP client for Rapport: the kernel and the first-party plugins
 * (CRM, PRM, HRM), typed from the OpenAPI document the server generates from its own route
 * schemas. The runtime is openapi-fetch; this package adds authentication, problem+json
 * errors and pagination.
 *
 *   const rapport = createRapportClient({ baseUrl: 'http://localhost:4000', apiKey: process.env.RAPPORT_KEY });
 *   const party = ok(await rapport.POST('/api/v1/parties', { body: { kind: 'organization', name: 'Acme' } }));
 */
export { createRapportClient, bearerAuth, type RapportClient, type RapportClientOptions } from './client.js';
export { login, type LoginOptions, type Session } from './session.js';
export { ok, RapportProblemError, type Problem } from './problems.js';
export { collectPages, type PageOf } from './pagination.js';
export { customFields, type WithCustomFields } from './custom-fields.js';
export type { paths, components, operations } from './schema.js';
