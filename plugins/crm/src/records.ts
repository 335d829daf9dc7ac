import { defineRecord } from '@rapport/core';
import { dealSchema, pipelineSchema, savedViewSchema, scoreRuleSchema, stageChangeSchema, stageSchema, taskSchema } from '@rapport/crm-contract';

/* Row mappers of CRM's tables, derived from the contract's record schemas (fields → snake_case columns). */

export const stageRecord = defineRecord(stageSchema);
/** `stages` come from crm_stages. */
export const pipelineRecord = defineRecord(pipelineSchema, { columns: { stages: null } });
/** `contactIds` come from crm_deal_contacts. */
export const dealRecord = defineRecord(dealSchema, { columns: { contactIds: null } });
export const stageChangeRecord = defineRecord(stageChangeSchema);
/** `done` is whether `done_at` is set. */
export const taskRecord = defineRecord(taskSchema, { columns: { done: null } });
export const scoreRuleRecord = defineRecord(scoreRuleSchema);
export const savedViewRecord = defineRecord(savedViewSchema);
