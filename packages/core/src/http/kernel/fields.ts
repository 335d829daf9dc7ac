import { z } from 'zod';
import type { KernelModule } from '../../app/module.js';
import { fieldCreateSchema, fieldSchema, fieldUpdateSchema } from '../../fields/definitions.js';
import type { FieldService } from '../../fields/service.js';
import type { PartyService } from '../../kernel/parties.js';
import type { PermissionDefinition } from '../../kernel/types.js';
import type { QueryContext } from '../../kernel/context.js';
import type { Party } from '../../kernel/types.js';
import { keysetBatches, sendCsv, type CsvColumn } from '../csv-export.js';
import { booleanQuery, pageOf, pageQuery } from '../pagination.js';
import type { RouteBuilder } from '../routes.js';

export const FIELD_PERMISSIONS: readonly PermissionDefinition[] = [{ key: 'fields:admin', description: 'Define, change, retire and purge custom fields' }];

const fieldParams = z.strictObject({ recordType: z.string().min(1).max(100), key: z.string().min(1).max(63) });
const tags = ['Custom fields'];

export interface FieldsHost {
  readonly fields: FieldService;
  readonly services: { readonly parties: PartyService };
}

/** Custom fields over HTTP (docs/custom-fields.md): reading them is `meta:read`, changing them `fields:admin`. */
export function fieldsModule(host: FieldsHost): KernelModule {
  const { fields } = host;
  return {
    name: 'fields',
    permissions: FIELD_PERMISSIONS,
    routes(r) {
      fieldRoutes(r, fields);
      partyExportRoute(r, host);
    },
  };
}

function fieldRoutes(r: RouteBuilder, fields: FieldService): void {
  r.get('/fields', {
    summary: 'List custom fields',
    description: 'Every field of the tenant, by record type and key; `retired=false` leaves retired ones out.',
    tags,
    permission: 'meta:read',
    query: z.strictObject({ ...pageQuery, recordType: z.string().max(100).optional(), retired: booleanQuery.optional() }),
    response: pageOf(fieldSchema),
    handler: (ctx) => fields.list(ctx, ctx.query),
  });

  r.get('/fields/record-types', {
    summary: 'Record types that take custom fields',
    tags,
    permission: 'meta:read',
    response: z.object({ data: z.array(z.object({ recordType: z.string(), owner: z.string(), label: z.string() })) }),
    handler: () => ({ data: fields.recordTypes() }),
  });

  r.post('/fields', {
    summary: 'Define a custom field',
    description:
      'A field of `recordType` (party, relationship, interaction or a plugin record type that takes fields), optionally limited to party kinds or types (`appliesTo`). Its values live in the records’ `attributes` under `key` and are checked on every write.',
    tags,
    permission: 'fields:admin',
    body: fieldCreateSchema,
    response: fieldSchema,
    handler: (ctx) => ctx.transaction((uow) => fields.create(uow, ctx.body)),
  });

  r.get('/fields/:recordType/:key', {
    summary: 'Get a custom field',
    tags,
    permission: 'meta:read',
    params: fieldParams,
    response: fieldSchema,
    handler: (ctx) => fields.get(ctx, ctx.params.recordType, ctx.params.key),
  });

  r.patch('/fields/:recordType/:key', {
    summary: 'Change a custom field (compatible changes only)',
    description: 'Relabel, describe, add choices or currencies, widen a range or a length, apply to more types. A change that stored values might not pass is refused with 409 naming why.',
    tags,
    permission: 'fields:admin',
    params: fieldParams,
    body: fieldUpdateSchema,
    requireIfMatch: true,
    response: fieldSchema,
    handler: (ctx) => ctx.transaction((uow) => fields.update(uow, ctx.params.recordType, ctx.params.key, ctx.body, ctx.ifMatch)),
  });

  r.post('/fields/:recordType/:key/retire', {
    summary: 'Retire a custom field',
    description: 'No new values are accepted; stored values are kept (and returned) until the field is purged.',
    tags,
    permission: 'fields:admin',
    params: fieldParams,
    status: 200,
    response: fieldSchema,
    handler: (ctx) => ctx.transaction((uow) => fields.retire(uow, ctx.params.recordType, ctx.params.key, true, ctx.ifMatch)),
  });

  r.post('/fields/:recordType/:key/restore', {
    summary: 'Restore a retired custom field',
    tags,
    permission: 'fields:admin',
    params: fieldParams,
    status: 200,
    response: fieldSchema,
    handler: (ctx) => ctx.transaction((uow) => fields.retire(uow, ctx.params.recordType, ctx.params.key, false, ctx.ifMatch)),
  });

  r.post('/fields/:recordType/:key/purge', {
    summary: 'Purge a retired custom field and its values',
    description: 'Removes the value from every record of the tenant, then the definition. Only a retired field can be purged.',
    tags,
    permission: 'fields:admin',
    params: fieldParams,
    status: 200,
    response: z.object({ field: fieldSchema, purgedRecords: z.number().int() }),
    handler: (ctx) => ctx.transaction((uow) => fields.purge(uow, ctx.params.recordType, ctx.params.key)),
  });
}

const PARTY_COLUMNS = ['id', 'kind', 'name'] as const;

/**
 * Parties as CSV in the columns the parties importer reads (kind, name, email, phone, domain,
 * attr.<key>), so an export imports again: custom fields and plugin attributes alike.
 */
function partyExportRoute(r: RouteBuilder, host: FieldsHost): void {
  r.get('/exports/parties', {
    summary: 'Download the parties the caller may see as CSV',
    description:
      'Columns: id, kind, name, email, phone, domain, then `attr.<key>` for every custom field of parties and every attribute a party holds among the first batch. Re-importable with the parties importer.',
    tags: ['Parties'],
    permission: 'parties:read',
    audience: 'any',
    query: z.strictObject({ archived: booleanQuery.optional() }),
    raw: true,
    responseContentType: 'text/csv',
    handler: async (ctx) => {
      const keys = (await host.fields.fieldsOf(ctx, 'party')).map((f) => f.definition.key);
      const batches = partyBatches(ctx, host.services.parties, ctx.query.archived ?? false);
      // Plugin attributes present in the first rows join the custom fields as columns.
      const first = await batches.next();
      for (const party of first.done ? [] : first.value) for (const key of Object.keys(party.attributes)) if (!keys.includes(key)) keys.push(key);
      const joined = (party: Party, kind: string) =>
        party.contactPoints
          .filter((p) => p.kind === kind)
          .map((p) => p.value)
          .join(';');
      const columns: CsvColumn<Party>[] = [
        ...PARTY_COLUMNS.map((c) => ({ header: c, value: (p: Party) => p[c] })),
        ...['email', 'phone', 'domain'].map((kind) => ({ header: kind, value: (p: Party) => joined(p, kind) })),
        ...keys.map((key) => ({ header: `attr.${key}`, value: (p: Party) => p.attributes[key] })),
      ];
      await sendCsv(ctx.koa, 'parties.csv', columns, prepend(first.done ? [] : first.value, batches));
    },
  });
}

async function* prepend<T>(first: T[], rest: AsyncGenerator<T[]>): AsyncGenerator<T[]> {
  if (first.length) yield first;
  yield* rest;
}

function partyBatches(ctx: QueryContext, parties: PartyService, archived: boolean): AsyncGenerator<Party[]> {
  return keysetBatches<Party>(async (after, limit) => {
    const q = parties.visible(ctx, 'p').select('p.id').orderBy('p.id').limit(limit);
    if (archived) q.whereNotNull('p.archived_at');
    else q.whereNull('p.archived_at');
    q.whereNull('p.merged_into_id');
    if (after) q.where('p.id', '>', after.id);
    const ids: string[] = (await q).map((row: { id: string }) => row.id);
    const found = new Map((await parties.getMany(ctx, ids)).map((p) => [p.id, p]));
    return ids.map((id) => found.get(id)!).filter(Boolean);
  });
}
