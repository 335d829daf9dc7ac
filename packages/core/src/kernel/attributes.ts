import { ValidationError, type ValidationIssue } from '../errors.js';
import type { FieldService } from '../fields/service.js';
import type { QueryContext } from './context.js';
import type { Registry } from './registry.js';
import type { PartyAttributeDefinition, PartyKind } from './types.js';
import type { z } from 'zod';

/**
 * Party attributes are plugin-owned keys. A key nobody registered, or whose owner is
 * disabled, is refused: nothing is stored that no schema vouches for.
 */
export function validatePartyAttributes(registry: Registry<PartyAttributeDefinition>, kind: PartyKind, attributes: Record<string, unknown>): Record<string, unknown> {
  const issues: ValidationIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    const definition = registry.usable(key);
    if (!definition) {
      issues.push({ path: `attributes.${key}`, message: `unknown attribute "${key}" (no enabled plugin declares it and no custom field of parties defines it)` });
      continue;
    }
    if (definition.kinds && !definition.kinds.includes(kind)) {
      issues.push({ path: `attributes.${key}`, message: `attribute "${key}" does not apply to a ${kind}` });
      continue;
    }
    if (value === null) {
      out[key] = null;
      continue;
    }
    const parsed = definition.schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push({ path: ['attributes', key, ...issue.path.map(String)].join('.'), message: issue.message });
      continue;
    }
    out[key] = parsed.data;
  }
  if (issues.length) throw new ValidationError('Some attributes are not valid', issues);
  return out;
}

/** Attributes of a relationship or interaction, validated by the schema its type declares. */
export function validateTypedAttributes(what: string, schema: z.ZodType | undefined, attributes: Record<string, unknown> | undefined): Record<string, unknown> {
  const value = attributes ?? {};
  if (!schema) {
    if (Object.keys(value).length > 0) {
      throw new ValidationError(`${what} declares no attributes`, [{ path: 'attributes', message: 'no attributes are accepted for this type' }]);
    }
    return {};
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(
      `The attributes are not valid for ${what}`,
      parsed.error.issues.map((issue) => ({ path: ['attributes', ...issue.path.map(String)].join('.'), message: issue.message })),
    );
  }
  return parsed.data as Record<string, unknown>;
}

export function mergeAttributes(current: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/**
 * A party's attributes: custom field values (un-dotted keys a field defines) checked by the
 * tenant's fields, the rest by the plugins' declarations. Null values are kept (they remove).
 */
export async function checkPartyAttributes(
  fields: FieldService,
  registry: Registry<PartyAttributeDefinition>,
  ctx: QueryContext,
  kind: PartyKind,
  attributes: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { custom, rest } = await fields.check(ctx, 'party', kind, attributes);
  return { ...validatePartyAttributes(registry, kind, rest), ...custom };
}

/**
 * A relationship's or interaction's attributes after a write: custom field values checked by
 * the tenant's fields (a patch's only; stored ones are kept as they are, retired ones too),
 * the rest by the schema its type declares. `current` is the stored attributes of an update.
 */
export async function checkTypedAttributes(
  fields: FieldService,
  ctx: QueryContext,
  recordType: 'relationship' | 'interaction',
  type: { key: string; attributes?: z.ZodType },
  patch: Record<string, unknown> | undefined,
  current?: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const given = patch ?? {};
  const defined = new Set((await fields.fieldsOf(ctx, recordType)).map((f) => f.definition.key));
  const split = (values: Record<string, unknown>, custom: boolean) => Object.fromEntries(Object.entries(values).filter(([key]) => defined.has(key) === custom));
  const { custom } = defined.size ? await fields.check(ctx, recordType, type.key, split(given, true)) : { custom: {} };
  const declared = current ? mergeAttributes(split(current, false), split(given, false)) : split(given, false);
  const typed = validateTypedAttributes(`${recordType} type ${type.key}`, type.attributes, declared);
  return mergeAttributes({ ...typed, ...(current ? split(current, true) : {}) }, custom);
}
