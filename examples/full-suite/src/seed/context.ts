import { ok, type RapportClient, type paths } from '@rapport/client';

type Body<P extends keyof paths, M extends 'post'> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
export type PartyInput = Body<'/api/v1/parties', 'post'>;
export type RelationshipInput = Body<'/api/v1/relationships', 'post'>;

/** What every part of the seed works with. */
export interface SeedContext {
  client: RapportClient;
  /** The firm running the system (the tenant's self party). */
  selfPartyId: string;
  /** Dates are relative to this, so the demo always looks current. */
  now: Date;
}

/** An ISO timestamp `n` days from the seed's `now` (negative: in the past). */
export const daysFromNow = (ctx: SeedContext, n: number): string => new Date(ctx.now.getTime() + n * 86_400_000).toISOString();
/** The same as a `YYYY-MM-DD` date. */
export const dateFromNow = (ctx: SeedContext, n: number): string => daysFromNow(ctx, n).slice(0, 10);

/**
 * The party holding the input's first contact point, or a new one: a seed that stopped
 * half-way and runs again finds the parties it already made instead of doubling them.
 */
export async function ensureParty(ctx: SeedContext, input: PartyInput) {
  const point = input.contactPoints?.[0];
  if (!point || (point.kind !== 'domain' && point.kind !== 'email')) throw new Error(`seed: party "${input.name}" needs a domain or e-mail first, to be found again`);
  const query = point.kind === 'domain' ? { domain: point.value } : { email: point.value };
  const found = ok(await ctx.client.GET('/api/v1/parties', { params: { query } })).data[0];
  return found ?? ok(await ctx.client.POST('/api/v1/parties', { body: input }));
}

export async function relate(ctx: SeedContext, body: RelationshipInput) {
  return ok(await ctx.client.POST('/api/v1/relationships', { body }));
}
