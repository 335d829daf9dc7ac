import { z } from 'zod';
import { PluginError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { sql } from '../kernel/context.js';
import type { KernelServices } from '../kernel/services.js';
import { newId } from '../util/ids.js';

/** What an action's `run` gets: the rule's unit of work (the tenant's system principal) and why it runs. */
export interface AutomationActionContext {
  readonly uow: UnitOfWork;
  readonly tenantId: string;
  readonly rule: { readonly id: string; readonly name: string };
  readonly event: { readonly id: string; readonly name: string };
}

/**
 * An action rules can name. Its parameters come from the rule as JSON Logic expressions,
 * evaluated against the event and checked with `params` before `run` is called; `run` writes
 * through `ctx.uow` only, so the rule's writes, its run record and its events commit together.
 * What `run` returns is kept in the run log (ids of what it made).
 */
export interface AutomationActionDefinition<P = Record<string, unknown>> {
  /** Kernel actions are bare (`create-interaction`); a plugin's are `<plugin>.<action>` (`crm.create-task`). */
  name: string;
  description?: string;
  params: z.ZodType<P>;
  run(ctx: AutomationActionContext, params: P): Promise<Record<string, unknown> | void>;
}

const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)?$/;

/** The actions rules can use: the kernel's and those of enabled plugins. */
export class AutomationActions {
  private readonly actions = new Map<string, AutomationActionDefinition<any> & { owner: string }>();

  constructor(private readonly isActive: (owner: string) => boolean) {}

  define<P>(owner: string, definition: AutomationActionDefinition<P>): void {
    const fail = (message: string) => (owner === 'core' ? new Error(message) : new PluginError(owner, message));
    if (!NAME.test(definition.name)) throw fail(`automation action "${definition.name}" must be lower-case words with dashes`);
    if (owner !== 'core' && !definition.name.startsWith(`${owner}.`)) throw fail(`automation action "${definition.name}" must be namespaced "${owner}.…"`);
    if (this.actions.has(definition.name)) throw fail(`automation action "${definition.name}" is declared twice`);
    if (typeof definition.run !== 'function' || !definition.params) throw fail(`automation action "${definition.name}" needs a params schema and a run function`);
    this.actions.set(definition.name, { ...definition, owner });
  }

  get(name: string): (AutomationActionDefinition<any> & { owner: string }) | undefined {
    const action = this.actions.get(name);
    return action && this.isActive(action.owner) ? action : undefined;
  }

  list(): Array<AutomationActionDefinition<any> & { owner: string }> {
    return [...this.actions.values()].filter((a) => this.isActive(a.owner));
  }
}

const uuid = z.uuid();
const shortText = z.string().min(1).max(500);

/** The kernel's own actions. */
export function defineKernelActions(actions: AutomationActions, services: KernelServices): void {
  actions.define('core', {
    name: 'create-interaction',
    description: 'Records an interaction (a note, a review, …) with the given parties, optionally on a relationship (its two parties when none are given)',
    params: z.strictObject({
      interactionType: z.string().min(1).max(100),
      subject: z.string().max(500).nullable().optional(),
      summary: z.string().max(20000).nullable().optional(),
      relationshipId: uuid.nullable().optional(),
      /** Nulls are dropped (a party an expression did not find). */
      partyIds: z.array(uuid.nullable()).max(50).optional(),
      role: z.string().min(1).max(50).optional(),
    }),
    async run({ uow }, p) {
      let participants = (p.partyIds ?? []).filter((id): id is string => id !== null).map((partyId) => ({ partyId, role: p.role ?? 'subject' }));
      if (participants.length === 0 && p.relationshipId) {
        const r = await services.relationships.get(uow, p.relationshipId);
        participants = [
          { partyId: r.toPartyId, role: r.toRole },
          { partyId: r.fromPartyId, role: r.fromRole },
        ];
      }
      if (participants.length === 0) throw new ValidationError('create-interaction needs partyIds or a relationshipId', [{ path: 'params.partyIds', message: 'no participants' }]);
      const unique = [...new Map(participants.map((x) => [x.partyId, x])).values()];
      const interaction = await services.interactions.create(uow, {
        type: p.interactionType,
        direction: 'internal',
        subject: p.subject ?? null,
        summary: p.summary ?? null,
        relationshipId: p.relationshipId ?? null,
        participants: unique,
      });
      return { interactionId: interaction.id };
    },
  });

  actions.define('core', {
    name: 'set-attribute',
    description: 'Sets one attribute of a party, relationship or interaction (validated like any write; null removes it)',
    params: z.strictObject({
      recordType: z.enum(['party', 'relationship', 'interaction']),
      recordId: uuid,
      key: z.string().min(1).max(100),
      value: z.unknown(),
    }),
    async run({ uow }, p) {
      const attributes = { [p.key]: p.value ?? null };
      if (p.recordType === 'party') await services.parties.update(uow, p.recordId, { attributes });
      else if (p.recordType === 'relationship') await services.relationships.update(uow, p.recordId, { attributes });
      else await services.interactions.update(uow, p.recordId, { attributes });
      return { recordType: p.recordType, recordId: p.recordId };
    },
  });

  actions.define('core', {
    name: 'record-observation',
    description: 'Records a value of an indicator for a party or relationship',
    params: z.strictObject({
      indicator: z.string().min(1).max(100),
      subjectId: uuid,
      value: z.number().finite().nullable().optional(),
      label: shortText.nullable().optional(),
      text: z.string().max(20000).nullable().optional(),
    }),
    async run({ uow }, p) {
      const observation = await services.observations.record(uow, { indicator: p.indicator, subjectId: p.subjectId, value: p.value, label: p.label, text: p.text });
      return { observationId: observation.id };
    },
  });

  actions.define('core', {
    name: 'call-webhook',
    description: 'Sends `automation.webhook` to one webhook subscription of the tenant (its URL, signing secret and retries), whatever events it subscribes to; `data` is any JSON',
    params: z.strictObject({ webhookId: uuid, data: z.unknown().optional() }),
    async run({ uow, tenantId, rule, event }, p) {
      const webhook = await sql(uow)('rapport_webhooks').where({ tenant_id: tenantId, id: p.webhookId }).first('id');
      if (!webhook) throw new ValidationError(`Webhook ${p.webhookId} does not exist`, [{ path: 'params.webhookId', message: 'no such webhook' }]);
      uow.emit('automation.webhook', { ruleId: rule.id, ruleName: rule.name, triggerEventId: event.id, triggerEventName: event.name, data: p.data ?? null });
      const emitted = uow.events[uow.events.length - 1];
      // The delivery is written with the event, so the dispatcher sends it like any other (at least once, signed).
      await sql(uow)('rapport_webhook_deliveries')
        .insert({ tenant_id: tenantId, id: newId(), webhook_id: p.webhookId, event_id: emitted.meta.id, event_name: emitted.name, status: 'pending', next_attempt_at: sql(uow).fn.now() })
        .onConflict(['tenant_id', 'webhook_id', 'event_id'])
        .ignore();
      return { webhookId: p.webhookId, eventId: emitted.meta.id };
    },
  });
}
