import { z } from 'zod';
import { NotFoundError, PreconditionFailedError, ValidationError, type ValidationIssue } from '../errors.js';
import { keysetPage } from '../http/keyset.js';
import { sql, type QueryContext } from '../kernel/context.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import type { Page } from '../util/cursor.js';
import { newId } from '../util/ids.js';
import { isoRequired } from '../util/time.js';
import { eventPatternProblem } from '../webhooks/patterns.js';
import type { AutomationActions } from './actions.js';
import { expressionProblem, isLiteral } from './expressions.js';

export const MAX_ACTIONS = 20;

export const triggerSchema = z.union([
  z.strictObject({ event: z.string().min(1).max(200).describe('An event name or pattern: `crm.deal.won`, `prm.*`, `**`') }),
  z.strictObject({ schedule: z.strictObject({ everyMinutes: z.number().int().min(1).max(525_600) }) }),
]);

export const actionSchema = z.strictObject({
  type: z.string().min(1).max(100).describe("A kernel action (`create-interaction`, `set-attribute`, `record-observation`, `call-webhook`) or a plugin's (`crm.create-task`)"),
  params: z.record(z.string(), z.unknown()).default({}).describe('Each value a JSON Logic expression (a literal is one too)'),
});

export const ruleCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  enabled: z.boolean().optional(),
  trigger: triggerSchema,
  conditions: z.unknown().optional().describe('A JSON Logic expression over { event, payload, record }; absent: always'),
  actions: z.array(actionSchema).min(1).max(MAX_ACTIONS),
});
export type RuleCreateInput = z.infer<typeof ruleCreateSchema>;

export const ruleUpdateSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).nullable().optional(),
  enabled: z.boolean().optional(),
  trigger: triggerSchema.optional(),
  conditions: z.unknown().optional(),
  actions: z.array(actionSchema).min(1).max(MAX_ACTIONS).optional(),
});
export type RuleUpdateInput = z.infer<typeof ruleUpdateSchema>;

export const ruleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  enabled: z.boolean(),
  trigger: triggerSchema,
  conditions: z.unknown(),
  actions: z.array(z.object({ type: z.string(), params: z.record(z.string(), z.unknown()) })),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Rule = z.infer<typeof ruleSchema>;

export interface RuleRow {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  trigger: Rule['trigger'];
  conditions: unknown;
  actions: Rule['actions'];
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

export const RULE_COLUMNS = ['id', 'name', 'description', 'enabled', 'trigger', 'conditions', 'actions', 'version', 'created_at', 'updated_at'];

export function toRule(row: RuleRow): Rule {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: row.enabled,
    trigger: row.trigger,
    conditions: row.conditions ?? null,
    actions: row.actions,
    version: row.version,
    createdAt: isoRequired(row.created_at),
    updatedAt: isoRequired(row.updated_at),
  };
}

/**
 * Refuses a rule whose parts do not hold together, naming the part: a trigger that is no
 * event pattern, a condition with an operator outside the safe list, an action nobody
 * provides, a parameter the action does not take, a literal parameter of the wrong type.
 */
export function checkRule(actions: AutomationActions, rule: { trigger: Rule['trigger']; conditions?: unknown; actions: Array<{ type: string; params: Record<string, unknown> }> }): void {
  const issues: ValidationIssue[] = [];
  if ('event' in rule.trigger) {
    const problem = eventPatternProblem(rule.trigger.event);
    if (problem) issues.push({ path: 'trigger.event', message: problem });
  }
  if (rule.conditions !== undefined && rule.conditions !== null) {
    const problem = expressionProblem(rule.conditions, 'conditions');
    if (problem) issues.push(problem);
  }
  rule.actions.forEach((action, i) => {
    const at = `actions[${i}]`;
    const definition = actions.get(action.type);
    if (!definition) {
      issues.push({
        path: `${at}.type`,
        message: `no action "${action.type}"; one of ${actions
          .list()
          .map((a) => a.name)
          .join(', ')}`,
      });
      return;
    }
    const shape = definition.params instanceof z.ZodObject ? (definition.params.shape as Record<string, z.ZodType>) : undefined;
    for (const [key, value] of Object.entries(action.params)) {
      const path = `${at}.params.${key}`;
      if (shape && !(key in shape)) {
        issues.push({ path, message: `not a parameter of "${action.type}"; it takes ${Object.keys(shape).join(', ')}` });
        continue;
      }
      const problem = expressionProblem(value, path);
      if (problem) {
        issues.push(problem);
        continue;
      }
      if (shape && isLiteral(value)) {
        const parsed = shape[key].safeParse(value);
        if (!parsed.success) issues.push({ path, message: parsed.error.issues[0]?.message ?? 'not valid' });
      }
    }
    if (shape) {
      for (const [key, schema] of Object.entries(shape)) {
        if (!(key in action.params) && !schema.safeParse(undefined).success) issues.push({ path: `${at}.params.${key}`, message: `required by "${action.type}"` });
      }
    }
  });
  if (issues.length) throw new ValidationError(`The rule is not valid: ${issues[0].path} ${issues[0].message}`, issues);
}

/** Automation rules: rows of the tenant, changed by those with `automation:manage`. */
export class RuleService {
  constructor(private readonly actions: AutomationActions) {}

  private table(ctx: QueryContext) {
    return sql(ctx)('rapport_automation_rules').where('tenant_id', ctx.tenantId);
  }

  async get(ctx: QueryContext, id: string): Promise<Rule> {
    const row: RuleRow | undefined = await this.table(ctx).where('id', id).first(RULE_COLUMNS);
    if (!row) throw new NotFoundError('Automation rule', id);
    return toRule(row);
  }

  list(ctx: QueryContext, page: { limit: number; cursor?: string }): Promise<Page<Rule>> {
    return keysetPage(this.table(ctx).select(RULE_COLUMNS), page, [{ column: 'id', type: 'uuid', direction: 'desc' }], (rows: RuleRow[]) => rows.map(toRule));
  }

  async create(uow: UnitOfWork, input: RuleCreateInput): Promise<Rule> {
    checkRule(this.actions, input);
    const rows: RuleRow[] = await sql(uow)('rapport_automation_rules')
      .insert({
        tenant_id: uow.tenantId,
        id: newId(),
        name: input.name,
        description: input.description ?? null,
        enabled: input.enabled ?? true,
        trigger: JSON.stringify(input.trigger),
        conditions: input.conditions === undefined ? null : JSON.stringify(input.conditions),
        actions: JSON.stringify(input.actions),
      })
      .returning(RULE_COLUMNS);
    const rule = toRule(rows[0]);
    uow.emit('automation.rule.created', { rule }, { type: 'automation-rule', id: rule.id });
    return rule;
  }

  async update(uow: UnitOfWork, id: string, patch: RuleUpdateInput, expectedVersion?: number): Promise<Rule> {
    const previous = await this.get(uow, id);
    if (expectedVersion !== undefined && expectedVersion !== previous.version) {
      throw new PreconditionFailedError(`Automation rule ${id} is at version ${previous.version}, not ${expectedVersion}`, { currentVersion: previous.version });
    }
    const next = {
      trigger: patch.trigger ?? previous.trigger,
      conditions: 'conditions' in patch ? patch.conditions : previous.conditions,
      actions: patch.actions ?? previous.actions,
    };
    checkRule(this.actions, next);
    const rows: RuleRow[] = await sql(uow)('rapport_automation_rules')
      .where({ tenant_id: uow.tenantId, id })
      .update({
        name: patch.name ?? previous.name,
        description: patch.description === undefined ? previous.description : patch.description,
        enabled: patch.enabled ?? previous.enabled,
        trigger: JSON.stringify(next.trigger),
        conditions: next.conditions === undefined || next.conditions === null ? null : JSON.stringify(next.conditions),
        actions: JSON.stringify(next.actions),
        version: previous.version + 1,
        updated_at: sql(uow).fn.now(),
      })
      .returning(RULE_COLUMNS);
    const rule = toRule(rows[0]);
    uow.emit('automation.rule.updated', { rule, previous }, { type: 'automation-rule', id });
    return rule;
  }

  async delete(uow: UnitOfWork, id: string): Promise<void> {
    const rule = await this.get(uow, id);
    await sql(uow)('rapport_automation_rules').where({ tenant_id: uow.tenantId, id }).delete();
    uow.emit('automation.rule.deleted', { rule }, { type: 'automation-rule', id });
  }
}
