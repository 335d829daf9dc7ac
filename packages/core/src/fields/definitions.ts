import { z } from 'zod';
import { ConflictError } from '../errors.js';

/** What an administrator may add at run time. `party` is a reference to a live party of the tenant. */
export const FIELD_KINDS = ['text', 'number', 'date', 'choice', 'multiChoice', 'money', 'party'] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

/** The kernel records that take custom fields; plugin record types opt in (`api.customFields.allow`). */
export const KERNEL_FIELD_RECORD_TYPES = ['party', 'relationship', 'interaction'] as const;

/**
 * A field key has no dot: plugin-declared attributes are always namespaced (`crm.industry`),
 * so a custom field can never collide with one, and both live side by side in `attributes`.
 */
export const FIELD_KEY = /^[a-z][a-zA-Z0-9_]{0,62}$/;
const RECORD_TYPE = /^[a-z][a-z0-9-]*(\.[a-z][a-zA-Z0-9-]*)?$/;
const CURRENCY = /^[A-Z]{3}$/;
/** A text field without its own limit; stored in jsonb, so a bound keeps rows and indexes sane. */
export const DEFAULT_TEXT_MAX = 2000;

export interface FieldOptions {
  maxLength?: number;
  min?: number;
  max?: number;
  integer?: boolean;
  choices?: string[];
  currencies?: string[];
}

export interface FieldDefinition extends FieldOptions {
  recordType: string;
  key: string;
  kind: FieldKind;
  label: string;
  description: string | null;
  /** Party kinds, relationship types or interaction types it applies to; empty: all of them. */
  appliesTo: string[];
  retiredAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const optionShape = {
  maxLength: z.number().int().min(1).max(100_000).optional(),
  min: z.number().finite().optional(),
  max: z.number().finite().optional(),
  integer: z.boolean().optional(),
  choices: z.array(z.string().min(1).max(200)).min(1).max(500).optional(),
  currencies: z.array(z.string().regex(CURRENCY, 'an ISO 4217 code such as EUR')).min(1).max(200).optional(),
};

function checkOptions(value: Partial<FieldOptions> & { kind?: FieldKind }, ctx: z.RefinementCtx): void {
  const { kind } = value;
  if (value.choices && new Set(value.choices).size !== value.choices.length) ctx.addIssue({ code: 'custom', path: ['choices'], message: 'choices must be distinct' });
  if (value.min !== undefined && value.max !== undefined && value.min > value.max) ctx.addIssue({ code: 'custom', path: ['min'], message: 'min is above max' });
  if (!kind) return;
  if ((kind === 'choice' || kind === 'multiChoice') && !value.choices) ctx.addIssue({ code: 'custom', path: ['choices'], message: `a ${kind} field needs its choices` });
  const allowed: Record<FieldKind, Array<keyof FieldOptions>> = {
    text: ['maxLength'],
    number: ['min', 'max', 'integer'],
    date: [],
    choice: ['choices'],
    multiChoice: ['choices'],
    money: ['min', 'max', 'currencies'],
    party: [],
  };
  for (const option of Object.keys(optionShape) as Array<keyof FieldOptions>) {
    if (value[option] !== undefined && !allowed[kind].includes(option)) ctx.addIssue({ code: 'custom', path: [option], message: `a ${kind} field has no ${option}` });
  }
}

export const fieldCreateSchema = z
  .strictObject({
    recordType: z.string().regex(RECORD_TYPE, 'party, relationship, interaction or a plugin record type such as crm.deal'),
    key: z.string().regex(FIELD_KEY, 'a letter, then letters, digits or _ (no dot: dotted keys belong to plugins)'),
    kind: z.enum(FIELD_KINDS),
    label: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullable().optional(),
    appliesTo: z.array(z.string().min(1).max(100)).max(100).optional(),
    ...optionShape,
  })
  .superRefine(checkOptions);
export type FieldCreateInput = z.infer<typeof fieldCreateSchema>;

/** `kind` may be sent (a client echoing the definition) but only a compatible change is applied. */
export const fieldUpdateSchema = z
  .strictObject({
    kind: z.enum(FIELD_KINDS).optional(),
    label: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    appliesTo: z.array(z.string().min(1).max(100)).max(100).optional(),
    ...optionShape,
  })
  .superRefine(checkOptions);
export type FieldUpdateInput = z.infer<typeof fieldUpdateSchema>;

export const fieldSchema = z.object({
  recordType: z.string(),
  key: z.string(),
  kind: z.enum(FIELD_KINDS),
  label: z.string(),
  description: z.string().nullable(),
  appliesTo: z.array(z.string()),
  maxLength: z.number().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  integer: z.boolean().optional(),
  choices: z.array(z.string()).optional(),
  currencies: z.array(z.string()).optional(),
  retiredAt: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function optionsOf(input: FieldOptions): FieldOptions {
  const out: FieldOptions = {};
  for (const key of Object.keys(optionShape) as Array<keyof FieldOptions>) if (input[key] !== undefined) (out as Record<string, unknown>)[key] = input[key];
  return out;
}

/**
 * The zod check of one field: the same kind of schema a plugin declares for its attributes,
 * so a custom value is held to exactly what a declared one is.
 */
export function compileField(field: FieldDefinition): z.ZodType {
  switch (field.kind) {
    case 'text':
      return z.string().max(field.maxLength ?? DEFAULT_TEXT_MAX);
    case 'number': {
      let schema = z.number().finite();
      if (field.integer) schema = schema.int();
      if (field.min !== undefined) schema = schema.min(field.min);
      if (field.max !== undefined) schema = schema.max(field.max);
      return schema;
    }
    case 'date':
      return z.iso.date();
    case 'choice':
      return z.enum(field.choices as [string, ...string[]]);
    case 'multiChoice':
      return z
        .array(z.enum(field.choices as [string, ...string[]]))
        .max(field.choices!.length)
        .refine((values) => new Set(values).size === values.length, 'each choice at most once');
    case 'money': {
      let amount = z.number().finite();
      if (field.min !== undefined) amount = amount.min(field.min);
      if (field.max !== undefined) amount = amount.max(field.max);
      const currency = field.currencies ? z.enum(field.currencies as [string, ...string[]]) : z.string().regex(CURRENCY, 'an ISO 4217 code such as EUR');
      return z.strictObject({ amount, currency });
    }
    case 'party':
      return z.uuid();
  }
}

/**
 * A change is compatible when every value stored under the old definition still passes the
 * new one: more choices, a longer text, a wider range, more record types. Anything else
 * would leave stored values invalid, so it is refused (409) with the reason.
 */
export function assertCompatible(current: FieldDefinition, change: FieldUpdateInput): void {
  const name = `field "${current.key}" of ${current.recordType}`;
  const refuse: (why: string) => never = (why) => {
    throw new ConflictError(`Changing ${name} is not compatible: ${why}`, { field: current.key, recordType: current.recordType });
  };
  if (change.kind !== undefined && change.kind !== current.kind)
    refuse(`its kind cannot change from ${current.kind} to ${change.kind} (stored values would not be ${change.kind} values); retire it and define a new field`);
  if (change.appliesTo !== undefined && change.appliesTo.length > 0) {
    if (current.appliesTo.length === 0) refuse('it applies to every type now; limiting it would strand the values of the others');
    const dropped = current.appliesTo.filter((t) => !change.appliesTo!.includes(t));
    if (dropped.length) refuse(`it would no longer apply to ${dropped.join(', ')}, which may hold values`);
  }
  if (change.choices !== undefined) {
    const dropped = (current.choices ?? []).filter((c) => !change.choices!.includes(c));
    if (dropped.length) refuse(`the choices ${dropped.map((c) => `"${c}"`).join(', ')} would be removed while values may use them`);
  }
  if (change.maxLength !== undefined && change.maxLength < (current.maxLength ?? DEFAULT_TEXT_MAX))
    refuse(`maxLength would shrink from ${current.maxLength ?? DEFAULT_TEXT_MAX} to ${change.maxLength}`);
  if (change.min !== undefined && current.min !== undefined ? change.min > current.min : change.min !== undefined)
    refuse(`min would rise to ${change.min}${current.min !== undefined ? ` from ${current.min}` : ' from none'}`);
  if (change.max !== undefined && current.max !== undefined ? change.max < current.max : change.max !== undefined)
    refuse(`max would fall to ${change.max}${current.max !== undefined ? ` from ${current.max}` : ' from none'}`);
  if (change.integer === true && !current.integer) refuse('it would accept only whole numbers while stored values may have decimals');
  if (change.currencies !== undefined) {
    if (!current.currencies) refuse('it accepts every currency now; limiting them would strand stored amounts');
    const dropped = current.currencies.filter((c) => !change.currencies!.includes(c));
    if (dropped.length) refuse(`the currencies ${dropped.join(', ')} would be removed`);
  }
}

/** The definition after a compatible change. */
export function applyChange(current: FieldDefinition, change: FieldUpdateInput): FieldDefinition {
  const next: FieldDefinition = { ...current };
  if (change.label !== undefined) next.label = change.label;
  if (change.description !== undefined) next.description = change.description;
  if (change.appliesTo !== undefined) next.appliesTo = [...new Set(change.appliesTo)];
  for (const key of Object.keys(optionShape) as Array<keyof FieldOptions>) if (change[key] !== undefined) (next as unknown as Record<string, unknown>)[key] = change[key];
  return next;
}

/** JSON Schema of a field's value, for the OpenAPI document. */
export function fieldJsonSchema(field: FieldDefinition): Record<string, unknown> {
  const described = { title: field.label, ...(field.description ? { description: field.description } : {}), ...(field.retiredAt ? { deprecated: true } : {}) };
  return { ...(z.toJSONSchema(compileField(field), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>), ...described, 'x-field-kind': field.kind };
}
