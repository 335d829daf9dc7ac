/**
 * Custom fields are defined at run time, so the package's own schema cannot name them. A
 * tenant's `openapi.json`, fetched with a token, describes them as
 * `components.schemas.PartyCustomFields` (and one per record type); generate types from that
 * document (`openapi-typescript`) and read a record's custom values typed:
 *
 *   import type { components as Tenant } from './tenant-schema.js';
 *   const fields = customFields<Tenant['schemas']['PartyCustomFields']>(party);
 *   fields.shoeSize; // number | undefined
 */
export type WithCustomFields<R extends { attributes: Record<string, unknown> }, F> = Omit<R, 'attributes'> & { attributes: R['attributes'] & Partial<F> };

/** The custom values of a record, typed by its record type's `…CustomFields` schema. */
export function customFields<F>(record: { attributes: Record<string, unknown> }): Partial<F> {
  return record.attributes as Partial<F>;
}
