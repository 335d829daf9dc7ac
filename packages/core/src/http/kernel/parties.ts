import { z } from 'zod';
import { ValidationError } from '../../errors.js';
import type { KernelServices } from '../../kernel/services.js';
import { mergeSchema, partyCreateSchema, partyUpdateSchema, contactPointSchema } from '../../kernel/schemas.js';
import { PARTY_KINDS } from '../../kernel/types.js';
import { booleanQuery, idParams, pageOf, pageQuery } from '../pagination.js';
import type { RouteBuilder } from '../routes.js';
import { textListQuery } from '../keyset.js';
import type { FieldService } from '../../fields/service.js';
import { parseFieldQuery, withFieldParams } from '../../fields/list-query.js';
import { interactionSchema, mergePlanSchema, partySchema, relationshipSchema } from './response-schemas.js';

export function partyRoutes(r: RouteBuilder, services: KernelServices, fields: FieldService): void {
  const { parties, relationships, interactions, merge } = services;
  const tags = ['Parties'];

  r.get('/parties', {
    reads: 'replica',
    summary: 'List parties',
    description:
      'Newest first, or by name with `sort=name` / `sort=-name` (keyset pages either way). Filter by kind, name (`q`: a substring, or what search matches — typos, words, contact points; `startsWith`: a prefix, case-insensitive), contact point (`email`, `phone`, `domain`), archive state, or custom fields (`field.<key>=value`, `field.<key>.gte`, `field.<key>.lte`); `sort=field.<key>` or `sort=-field.<key>` orders by one.',
    tags,
    permission: 'parties:read',
    audience: 'any',
    query: withFieldParams({
      ...pageQuery,
      kind: z.enum(PARTY_KINDS).optional(),
      ...textListQuery('name'),
      email: z.string().max(320).optional(),
      phone: z.string().max(50).optional(),
      domain: z.string().max(253).optional(),
      archived: booleanQuery.optional(),
    }),
    response: pageOf(partySchema),
    handler: async (ctx) => {
      // `sort` is the name's (sort=name, sort=-name) or a custom field's (sort=field.<key>).
      const { sort, ...rest } = ctx.query;
      const byName = sort === 'name' || sort === '-name' ? sort : undefined;
      if (sort !== undefined && !byName && !/^-?field\./.test(sort)) {
        throw new ValidationError('sort takes name, -name, field.<key> or -field.<key>', [{ path: 'sort', message: 'unknown sort' }]);
      }
      const custom = parseFieldQuery(await fields.fieldsOf(ctx, 'party', ctx.query.kind), byName ? rest : ctx.query);
      const contact = ctx.query.email
        ? { kind: 'email', value: ctx.query.email }
        : ctx.query.phone
          ? { kind: 'phone', value: ctx.query.phone }
          : ctx.query.domain
            ? { kind: 'domain', value: ctx.query.domain }
            : undefined;
      return parties.list(ctx, { ...rest, sort: byName, contact, fields: custom });
    },
  });

  r.post('/parties', {
    summary: 'Create a party',
    tags,
    permission: 'parties:write',
    audience: 'any',
    body: partyCreateSchema,
    response: partySchema,
    handler: (ctx) => ctx.transaction((uow) => parties.create(uow, ctx.body)),
  });

  r.get('/parties/:id', {
    summary: 'Get a party',
    tags,
    permission: 'parties:read',
    audience: 'any',
    params: idParams,
    response: partySchema,
    handler: (ctx) => parties.get(ctx, ctx.params.id),
  });

  r.patch('/parties/:id', {
    summary: 'Change a party',
    description: 'Requires `If-Match` with the version read. `attributes` are merged; a null value removes a key. `contactPoints` replaces the list.',
    tags,
    permission: 'parties:write',
    audience: 'any',
    params: idParams,
    body: partyUpdateSchema,
    requireIfMatch: true,
    response: partySchema,
    handler: (ctx) => ctx.transaction((uow) => parties.update(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.post('/parties/:id/archive', {
    summary: 'Archive a party',
    description: 'Archived parties keep their history and leave default lists. Parties are never deleted.',
    tags,
    permission: 'parties:write',
    audience: 'any',
    params: idParams,
    status: 200,
    response: partySchema,
    handler: (ctx) => ctx.transaction((uow) => parties.archive(uow, ctx.params.id, ctx.ifMatch)),
  });

  r.post('/parties/:id/restore', {
    summary: 'Restore an archived party',
    tags,
    permission: 'parties:write',
    audience: 'any',
    params: idParams,
    status: 200,
    response: partySchema,
    handler: (ctx) => ctx.transaction((uow) => parties.restore(uow, ctx.params.id, ctx.ifMatch)),
  });

  r.get('/parties/:id/timeline', {
    reads: 'replica',
    summary: "A party's timeline",
    description: 'Every interaction the party took part in, newest first, keyset-paginated.',
    tags,
    permission: 'interactions:read',
    audience: 'any',
    params: idParams,
    query: z.strictObject({ ...pageQuery, type: z.string().max(100).optional() }),
    response: pageOf(interactionSchema),
    handler: (ctx) => interactions.partyTimeline(ctx, ctx.params.id, ctx.query),
  });

  r.get('/parties/:id/relationships', {
    reads: 'replica',
    summary: "A party's relationships",
    description: 'Relationships with the party at either end; `role` keeps those where the party plays that role (e.g. `customer`).',
    tags,
    permission: 'relationships:read',
    audience: 'any',
    params: idParams,
    query: z.strictObject({
      ...pageQuery,
      role: z.string().max(50).optional(),
      type: z.string().max(100).optional(),
      status: z.string().max(50).optional(),
      active: booleanQuery.optional(),
    }),
    response: pageOf(relationshipSchema),
    handler: async (ctx) => {
      await parties.get(ctx, ctx.params.id);
      return relationships.list(ctx, { ...ctx.query, partyId: ctx.params.id });
    },
  });

  r.get('/parties/:id/duplicates', {
    summary: 'Duplicate candidates of a party',
    description: 'Other parties sharing a normalized contact point (e-mail, phone, domain).',
    tags,
    permission: 'parties:read',
    audience: 'any',
    params: idParams,
    response: z.object({ data: z.array(z.object({ party: partySchema, matches: z.array(z.object({ kind: z.string(), normalized: z.string() })) })) }),
    handler: async (ctx) => ({ data: await parties.duplicatesOf(ctx, ctx.params.id) }),
  });

  r.post('/parties/merge', {
    summary: 'Merge duplicate parties into a survivor',
    description: 'Moves relationships, interactions, observations and contact points in one transaction. `dryRun: true` reports what would move and writes nothing.',
    tags,
    permission: 'parties:write',
    audience: 'any',
    body: mergeSchema,
    response: mergePlanSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => merge.merge(uow, ctx.body)),
  });

  r.get('/duplicates', {
    summary: 'Check a contact point for existing parties',
    description: 'Parties that already hold this contact point, before creating a new one.',
    tags,
    permission: 'parties:read',
    audience: 'any',
    query: contactPointSchema.strict(),
    response: z.object({ data: z.array(partySchema) }),
    handler: async (ctx) => {
      const page = await parties.list(ctx, { contact: ctx.query, limit: 50 });
      return { data: page.data };
    },
  });
}
