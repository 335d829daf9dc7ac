import { ValidationError, type ValidationIssue } from '../errors.js';
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
      issues.push({ path: `attributes.${key}`, message: `unknown attribute "${key}" (no enabled plugin declares it)` });
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
