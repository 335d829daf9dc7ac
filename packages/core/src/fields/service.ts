import { isoRequired } from '../util/time.js';
import type { Knex } from 'knex';
import type { z } from 'zod';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError, type ValidationIssue } from '../errors.js';
import { UnitOfWork } from '../hooks/unit-of-work.js';
import { sql, type QueryContext } from '../kernel/context.js';
import type { KernelRegistries } from '../kernel/kernel.js';
import { PARTY_KINDS } from '../kernel/types.js';
import { keysetPage } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import { changesFields, fieldCacheOf } from './cache.js';
import { parseFieldQuery, type FieldListQuery } from './list-query.js';
import {
  applyChange,
  assertCompatible,
  compileField,
  KERNEL_FIELD_RECORD_TYPES,
  optionsOf,
  type FieldCreateInput,
  type FieldDefinition,
  type FieldOptions,
  type FieldUpdateInput,
} from './definitions.js';

/**
 * A plugin record type that takes custom fields (`api.customFields.allow`). The kernel reads
 * and purges values in `table`.`column` (a jsonb column of the plugin's own table, tenant-bound).
 */
export interface FieldRecordTypeDefinition {
  /** `<plugin>.<record>`, e.g. `crm.deal`. */
  key: string;
  /** The plugin's table holding the records (its prefix). */
  table: string;
  /** Its jsonb column of values; `attributes` by default. */
  column?: string;
  label?: string;
}

export interface CompiledField {
  definition: FieldDefinition;
  schema: z.ZodType;
}

/** A tenant's fields by record type, compiled (retired ones included: their values stay readable). */
type TenantFields = Map<string, CompiledField[]>;

interface FieldRow {
  record_type: string;
  key: string;
  kind: FieldDefinition['kind'];
  label: string;
  description: string | null;
  applies_to: string[];
  options: FieldOptions;
  retired_at: Date | string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

function toDefinition(row: FieldRow): FieldDefinition {
  return {
    recordType: row.record_type,
    key: row.key,
    kind: row.kind,
    label: row.label,
    description: row.description,
    appliesTo: row.applies_to ?? [],
    ...optionsOf(row.options ?? {}),
    retiredAt: row.retired_at ? isoRequired(row.retired_at) : null,
    version: row.version,
    createdAt: isoRequired(row.created_at),
    updatedAt: isoRequired(row.updated_at),
  };
}

/** What a write's custom values came to: checked values, and party ids that must be live. */
export interface CheckedFields {
  values: Record<string, unknown>;
  partyRefs: Array<{ path: string; id: string }>;
}

/**
 * Custom fields (docs/custom-fields.md): definitions per tenant and record type, their
 * compiled checks (cached per tenant, emptied on every change, on every node), and the
 * validation every write of a kernel or opted-in plugin record runs on its `attributes`.
 */
export class FieldService {
  constructor(
    /** The root database handle (the cache is one per handle; a transaction is not one). */
    private readonly root: () => Knex,
    private readonly registries: KernelRegistries,
    private readonly requireParties: (ctx: QueryContext, ids: string[], field: string) => Promise<unknown>,
  ) {}

  /** Record types that take fields: the kernel's three and every enabled plugin's that opted in. */
  recordTypes(): Array<{ recordType: string; owner: string; label: string }> {
    return [
      { recordType: 'party', owner: 'core', label: 'Parties' },
      { recordType: 'relationship', owner: 'core', label: 'Relationships' },
      { recordType: 'interaction', owner: 'core', label: 'Interactions' },
      ...this.registries.fieldRecordTypes.list().map((t) => ({ recordType: t.key, owner: t.owner, label: t.label ?? t.key })),
    ];
  }

  /** The compiled fields of the tenant, from the cache. */
  async tenantFields(ctx: QueryContext): Promise<TenantFields> {
    const db = sql(ctx);
    // A write that changed fields reads them through its own transaction, uncommitted: not cached.
    const uncommitted = ctx instanceof UnitOfWork && changesFields(ctx.events);
    return fieldCacheOf<TenantFields>(this.root()).get(ctx.tenantId, !uncommitted, async () => {
      const rows: FieldRow[] = await db('rapport_fields').where('tenant_id', ctx.tenantId).orderBy(['record_type', 'key']);
      const out: TenantFields = new Map();
      for (const row of rows) {
        const definition = toDefinition(row);
        const list = out.get(definition.recordType) ?? [];
        list.push({ definition, schema: compileField(definition) });
        out.set(definition.recordType, list);
      }
      return out;
    });
  }

  /** Fields of one record type (optionally only those applying to a kind or type), retired ones included. */
  async fieldsOf(ctx: QueryContext, recordType: string, subtype?: string): Promise<CompiledField[]> {
    const all = (await this.tenantFields(ctx)).get(recordType) ?? [];
    return subtype === undefined ? all : all.filter((f) => f.definition.appliesTo.length === 0 || f.definition.appliesTo.includes(subtype));
  }

  async list(ctx: QueryContext, query: { recordType?: string; retired?: boolean; limit: number; cursor?: string }): Promise<Page<FieldDefinition>> {
    const q = sql(ctx)('rapport_fields').where('tenant_id', ctx.tenantId);
    if (query.recordType) q.where('record_type', query.recordType);
    if (query.retired === true) q.whereNotNull('retired_at');
    else if (query.retired === false) q.whereNull('retired_at');
    return keysetPage(
      q,
      query,
      [
        { column: 'record_type', type: 'string' },
        { column: 'key', type: 'string' },
      ],
      (rows: FieldRow[]) => rows.map(toDefinition),
    );
  }

  async get(ctx: QueryContext, recordType: string, key: string): Promise<FieldDefinition> {
    const row: FieldRow | undefined = await sql(ctx)('rapport_fields').where({ tenant_id: ctx.tenantId, record_type: recordType, key }).first();
    if (!row) throw new NotFoundError('Field', `${recordType}.${key}`);
    return toDefinition(row);
  }

  async create(uow: UnitOfWork, input: FieldCreateInput): Promise<FieldDefinition> {
    this.checkRecordType(input.recordType);
    const appliesTo = [...new Set(input.appliesTo ?? [])];
    this.checkAppliesTo(input.recordType, appliesTo, input.key);
    const existing = await sql(uow)('rapport_fields').where({ tenant_id: uow.tenantId, record_type: input.recordType, key: input.key }).first('retired_at');
    if (existing) {
      throw new ConflictError(
        existing.retired_at
          ? `Field "${input.key}" of ${input.recordType} is retired but keeps its values; purge it (POST …/purge) before defining it again`
          : `Field "${input.key}" of ${input.recordType} already exists`,
      );
    }
    const now = new Date();
    const options = optionsOf(input);
    await sql(uow)('rapport_fields').insert({
      tenant_id: uow.tenantId,
      record_type: input.recordType,
      key: input.key,
      kind: input.kind,
      label: input.label,
      description: input.description ?? null,
      applies_to: JSON.stringify(appliesTo),
      options: JSON.stringify(options),
      version: 1,
      created_at: now,
      updated_at: now,
    });
    const field = await this.get(uow, input.recordType, input.key);
    uow.emit('field.created', { field }, { type: 'field', id: `${field.recordType}.${field.key}` });
    return field;
  }

  async update(uow: UnitOfWork, recordType: string, key: string, change: FieldUpdateInput, expectedVersion?: number): Promise<FieldDefinition> {
    const previous = await this.lock(uow, recordType, key, expectedVersion);
    if (previous.retiredAt) throw new ConflictError(`Field "${key}" of ${recordType} is retired; restore it before changing it`);
    assertCompatible(previous, change);
    const next = applyChange(previous, change);
    this.checkAppliesTo(recordType, next.appliesTo, key);
    await sql(uow)('rapport_fields')
      .where({ tenant_id: uow.tenantId, record_type: recordType, key })
      .update({
        label: next.label,
        description: next.description,
        applies_to: JSON.stringify(next.appliesTo),
        options: JSON.stringify(optionsOf(next)),
        version: previous.version + 1,
        updated_at: new Date(),
      });
    const field = await this.get(uow, recordType, key);
    uow.emit('field.updated', { field, previous }, { type: 'field', id: `${recordType}.${key}` });
    return field;
  }

  /** Retired: no new values, stored ones kept (and still returned) until the field is purged. */
  async retire(uow: UnitOfWork, recordType: string, key: string, retired: boolean, expectedVersion?: number): Promise<FieldDefinition> {
    const previous = await this.lock(uow, recordType, key, expectedVersion);
    if (Boolean(previous.retiredAt) === retired) return previous;
    await sql(uow)('rapport_fields')
      .where({ tenant_id: uow.tenantId, record_type: recordType, key })
      .update({ retired_at: retired ? new Date() : null, version: previous.version + 1, updated_at: new Date() });
    const field = await this.get(uow, recordType, key);
    uow.emit(retired ? 'field.retired' : 'field.restored', { field }, { type: 'field', id: `${recordType}.${key}` });
    return field;
  }

  /** Removes a retired field's values from every record of the tenant, then the field itself. */
  async purge(uow: UnitOfWork, recordType: string, key: string): Promise<{ field: FieldDefinition; purgedRecords: number }> {
    const field = await this.lock(uow, recordType, key);
    if (!field.retiredAt) throw new ConflictError(`Field "${key}" of ${recordType} is in use; retire it before purging its values`);
    const { table, column } = this.storageOf(recordType);
    const purgedRecords = Number(
      await sql(uow)(table)
        .where('tenant_id', uow.tenantId)
        .whereRaw('?? \\? ?', [column, key])
        .update({ [column]: sql(uow).raw('?? - ?', [column, key]) }),
    );
    await sql(uow)('rapport_fields').where({ tenant_id: uow.tenantId, record_type: recordType, key }).delete();
    uow.emit('field.purged', { field, purgedRecords }, { type: 'field', id: `${recordType}.${key}` });
    return { field, purgedRecords };
  }

  /**
   * Splits a write's attributes into custom values (keys a field of this record type
   * defines) and the rest, checking the custom ones: unknown-kind values, retired fields and
   * fields that do not apply to `subtype` are refused; null removes a value.
   */
  async check(ctx: QueryContext, recordType: string, subtype: string | undefined, attributes: Record<string, unknown>): Promise<{ custom: Record<string, unknown>; rest: Record<string, unknown> }> {
    const custom: Record<string, unknown> = {};
    const rest: Record<string, unknown> = {};
    const undotted = Object.keys(attributes).filter((k) => !k.includes('.'));
    if (undotted.length === 0) return { custom, rest: attributes };
    const fields = new Map((await this.fieldsOf(ctx, recordType)).map((f) => [f.definition.key, f]));
    const issues: ValidationIssue[] = [];
    const partyRefs: Array<{ path: string; id: string }> = [];
    for (const [key, value] of Object.entries(attributes)) {
      const field = fields.get(key);
      if (!field) {
        rest[key] = value;
        continue;
      }
      const { definition } = field;
      const path = `attributes.${key}`;
      if (subtype !== undefined && definition.appliesTo.length > 0 && !definition.appliesTo.includes(subtype)) {
        issues.push({ path, message: `field "${key}" does not apply to ${recordType} ${subtype}` });
        continue;
      }
      if (value === null) {
        custom[key] = null;
        continue;
      }
      if (definition.retiredAt) {
        issues.push({ path, message: `field "${key}" is retired and takes no new values` });
        continue;
      }
      const parsed = field.schema.safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) issues.push({ path: ['attributes', key, ...issue.path.map(String)].join('.'), message: issue.message });
        continue;
      }
      custom[key] = parsed.data;
      if (definition.kind === 'party') partyRefs.push({ path, id: parsed.data as string });
    }
    if (issues.length) throw new ValidationError('Some custom field values are not valid', issues);
    for (const ref of partyRefs) await this.requireParties(ctx, [ref.id], ref.path);
    return { custom, rest };
  }

  /**
   * For a plugin record that opted in: checks `attributes` (custom values only, every key
   * must be a field of `recordType`) and returns them; the plugin stores them in its column.
   */
  async validate(ctx: QueryContext, recordType: string, attributes: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { custom, rest } = await this.check(ctx, recordType, undefined, attributes);
    const unknown = Object.keys(rest);
    if (unknown.length) {
      throw new ValidationError(
        `Unknown attributes for ${recordType}`,
        unknown.map((key) => ({ path: `attributes.${key}`, message: `unknown attribute "${key}" (no custom field of ${recordType} defines it)` })),
      );
    }
    return custom;
  }

  private async lock(uow: UnitOfWork, recordType: string, key: string, expectedVersion?: number): Promise<FieldDefinition> {
    const row: FieldRow | undefined = await sql(uow)('rapport_fields').where({ tenant_id: uow.tenantId, record_type: recordType, key }).forUpdate().first();
    if (!row) throw new NotFoundError('Field', `${recordType}.${key}`);
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new PreconditionFailedError(`Field ${recordType}.${key} is at version ${row.version}, not ${expectedVersion}`, { currentVersion: row.version });
    }
    return toDefinition(row);
  }

  private checkRecordType(recordType: string): void {
    if ((KERNEL_FIELD_RECORD_TYPES as readonly string[]).includes(recordType)) return;
    if (this.registries.fieldRecordTypes.usable(recordType)) return;
    const known = this.recordTypes().map((t) => t.recordType);
    throw new ValidationError(`"${recordType}" takes no custom fields`, [{ path: 'recordType', message: `one of ${known.join(', ')}` }]);
  }

  /** appliesTo names party kinds or declared types; a key a type's own schema declares is refused. */
  private checkAppliesTo(recordType: string, appliesTo: string[], key: string): void {
    if (recordType === 'party') {
      const wrong = appliesTo.filter((k) => !(PARTY_KINDS as readonly string[]).includes(k));
      if (wrong.length) throw new ValidationError('appliesTo names party kinds', [{ path: 'appliesTo', message: `${wrong.join(', ')}: not one of ${PARTY_KINDS.join(', ')}` }]);
      return;
    }
    if (recordType !== 'relationship' && recordType !== 'interaction') {
      if (appliesTo.length) throw new ValidationError(`${recordType} has no types to choose from`, [{ path: 'appliesTo', message: 'leave it out' }]);
      return;
    }
    const registry = recordType === 'relationship' ? this.registries.relationshipTypes : this.registries.interactionTypes;
    const wrong = appliesTo.filter((t) => !registry.get(t));
    if (wrong.length) throw new ValidationError(`appliesTo names ${registry.what}s`, [{ path: 'appliesTo', message: `${wrong.join(', ')}: no such ${registry.what}` }]);
    const types = appliesTo.length ? appliesTo.map((t) => registry.get(t)!) : registry.list({ includeInactive: true });
    for (const type of types) {
      const shape = (type.attributes as { shape?: Record<string, unknown> } | undefined)?.shape;
      if (shape && key in shape) throw new ConflictError(`${registry.what} ${type.key} declares an attribute "${key}" itself; choose another key`);
    }
  }

  /** Where a record type keeps its values. */
  storageOf(recordType: string): { table: string; column: string } {
    switch (recordType) {
      case 'party':
        return { table: 'rapport_parties', column: 'attributes' };
      case 'relationship':
        return { table: 'rapport_relationships', column: 'attributes' };
      case 'interaction':
        return { table: 'rapport_interactions', column: 'attributes' };
    }
    const declared = this.registries.fieldRecordTypes.get(recordType);
    if (!declared) throw new NotFoundError('Record type', recordType);
    return { table: declared.table, column: declared.column ?? 'attributes' };
  }
}

/** What a plugin gets as `coreServices.fields`: the checks of its own record types' values. */
export interface FieldValues {
  /**
   * Checks a write's custom values of `recordType` (one of this plugin's, opted in): every key
   * must be a live field; null removes. Returns the checked values; 400 otherwise.
   */
  validate(ctx: QueryContext, recordType: string, attributes: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The fields of `recordType` defined in the caller's tenant, retired ones included. */
  list(ctx: QueryContext, recordType: string): Promise<FieldDefinition[]>;
  /**
   * The custom filters and sort a list's query string asks for (`field.<key>=`, `.gte`,
   * `.lte`, `sort=field.<key>` / `-field.<key>`), checked against the tenant's fields of
   * `recordType` (400 naming the parameter otherwise); undefined when it asks for none. Apply
   * it with `applyFieldFilters` and page with `fieldSortPage` (docs/custom-fields.md).
   */
  listQuery(ctx: QueryContext, recordType: string, query: Record<string, unknown>): Promise<FieldListQuery | undefined>;
}

export function fieldValuesFor(plugin: string, fields: FieldService): FieldValues {
  const own = (recordType: string) => {
    if (!recordType.startsWith(`${plugin}.`)) throw new Error(`plugin "${plugin}" may check custom fields of its own record types only, not "${recordType}"`);
  };
  return {
    validate: (ctx, recordType, attributes) => {
      own(recordType);
      return fields.validate(ctx, recordType, attributes);
    },
    list: async (ctx, recordType) => {
      own(recordType);
      return (await fields.fieldsOf(ctx, recordType)).map((f) => f.definition);
    },
    listQuery: async (ctx, recordType, query) => {
      own(recordType);
      return parseFieldQuery(await fields.fieldsOf(ctx, recordType), query);
    },
  };
}
