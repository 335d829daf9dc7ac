import type { PluginApi, QueryContext, ResolvedDeps } from '@rapport/core';
import { prm } from '@rapport/prm-contract';

/*
 * Compiled by `pnpm typecheck`, never run (vitest takes *.test.ts only): a CRM-side use of
 * PRM's contract with a payload of the wrong type must fail the build. Each wrong use sits
 * beside a right one; if the contract stopped carrying its types, the `@ts-expect-error`
 * lines would have nothing to expect and typecheck would fail on them instead.
 */
export function contractUses(api: PluginApi, deps: ResolvedDeps<{ leads: typeof prm.services.leads }>, ctx: QueryContext): void {
  api.hooks.filter(prm.filters.registrationConvert, (payload) => ({ ...payload, dealId: 'a deal id' }));
  // @ts-expect-error dealId is a string or null, never a number
  api.hooks.filter(prm.filters.registrationConvert, (payload) => ({ ...payload, dealId: 42 }));

  api.hooks.filter(prm.filters.registrationConflicts, (payload) => ({ ...payload, conflicts: [...payload.conflicts, { reason: 'open-direct-deal', message: 'text' }] }));
  // @ts-expect-error a conflict's message is text
  api.hooks.filter(prm.filters.registrationConflicts, (payload) => ({ ...payload, conflicts: [{ reason: 'open-direct-deal', message: 7 }] }));

  api.hooks.filter(prm.filters.registrationConvert, (payload) => {
    const name: string = payload.registration.customerName;
    // @ts-expect-error the registration's customer name is text, not a number
    const wrong: number = payload.registration.customerName;
    void name;
    void wrong;
    return payload;
  });

  api.hooks.on(prm.events.registrationApproved, (payload) => {
    const id: string = payload.registration.id;
    // @ts-expect-error an approved registration event carries the registration, not a deal
    void payload.deal;
    void id;
  });

  void deps.leads.get(ctx, 'a lead id');
  // @ts-expect-error a lead is read by its id (text)
  void deps.leads.get(ctx, 42);
}
