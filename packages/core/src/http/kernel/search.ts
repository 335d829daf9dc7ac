import { z } from 'zod';
import type { KernelModule } from '../../app/module.js';
import { AUTHENTICATED } from '../../access/principal.js';
import type { SearchService } from '../../search/service.js';
import { pageOf, pageQuery } from '../pagination.js';

export const searchHitSchema = z.object({
  type: z.string(),
  id: z.uuid(),
  title: z.string(),
  snippet: z.string().nullable(),
  rank: z.number(),
});

/**
 * `GET /search`: open to every principal, each type searched only with its read permission
 * and within the caller's record scopes (docs/search.md).
 */
export function searchModule(host: { readonly search: SearchService }): KernelModule {
  return {
    name: 'search',
    permissions: [],
    routes(r) {
      r.get('/search', {
        summary: 'Search parties, interactions and plugin records',
        description:
          'Ranked by relevance (trigram similarity for names and titles, so typos and case do not matter; full text for subjects and summaries; contact points such as `www.acme.example`). Only the types the caller may read (`types` narrows them, comma-separated) and only records within its reach. Keyset-paginated over (rank, id).',
        tags: ['Search'],
        permission: AUTHENTICATED,
        audience: 'any',
        query: z.strictObject({
          q: z.string().trim().min(1).max(200),
          types: z
            .string()
            .max(500)
            .transform((v) =>
              v
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean),
            )
            .optional(),
          ...pageQuery,
        }),
        response: pageOf(searchHitSchema),
        handler: (ctx) => host.search.search(ctx, ctx.query),
      });
    },
  };
}
