import { fieldJsonSchema } from './definitions.js';
import type { CompiledField } from './service.js';

/** The component name of a record type's custom fields: `PartyCustomFields`, `CrmDealCustomFields`. */
export function customFieldsSchemaName(recordType: string): string {
  const words = recordType.split(/[.-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return `${words.join('')}CustomFields`;
}

/**
 * Adds a tenant's custom fields to an OpenAPI document: one object schema per record type
 * (`components.schemas.PartyCustomFields`, …), each property a field, typed like its check;
 * a generated client reads them as typed extras of `attributes`. Listed in `x-custom-fields`.
 */
export function addCustomFields(doc: Record<string, unknown>, fields: ReadonlyMap<string, readonly CompiledField[]>): void {
  const components = doc.components as { schemas: Record<string, unknown> };
  const names: Record<string, string> = {};
  for (const [recordType, list] of fields) {
    if (list.length === 0) continue;
    const name = customFieldsSchemaName(recordType);
    names[recordType] = `#/components/schemas/${name}`;
    components.schemas[name] = {
      type: 'object',
      description: `Custom fields of ${recordType}, in its \`attributes\` (defined at run time; GET /api/v1/fields)`,
      properties: Object.fromEntries(list.map((f) => [f.definition.key, fieldJsonSchema(f.definition)])),
      additionalProperties: true,
    };
  }
  doc['x-custom-fields'] = names;
}
