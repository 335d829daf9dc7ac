import { NotFoundError, type QueryContext } from '@rapport/core';
import type { Survey } from '../types.js';
import { iso } from './context.js';
import type { StoredResponse } from './engagement.js';

type Db = QueryContext['db'];

export interface SurveyRow {
  id: string;
  title: string;
  kind: Survey['kind'];
  anonymous: boolean;
  min_group_size: number;
  questions: Survey['questions'];
  status: Survey['status'];
  opened_at: Date | null;
  closed_at: Date | null;
  created_at: Date;
}

export function toSurvey(row: SurveyRow): Survey {
  return {
    id: row.id,
    title: row.title,
    kind: row.kind,
    anonymous: row.anonymous,
    minGroupSize: row.min_group_size,
    questions: row.questions,
    status: row.status,
    openedAt: iso(row.opened_at),
    closedAt: iso(row.closed_at),
    createdAt: iso(row.created_at)!,
  };
}

export async function getSurvey(db: Db, tenantId: string, id: string): Promise<Survey> {
  const row: SurveyRow | undefined = await db('hrm_surveys').where({ tenant_id: tenantId, id }).first();
  if (!row) throw new NotFoundError('Survey', id);
  return toSurvey(row);
}

/** The answers of some surveys, without any respondent (aggregation never needs it). */
export async function responsesOf(db: Db, tenantId: string, surveyIds: readonly string[]): Promise<Map<string, StoredResponse[]>> {
  const rows: Array<{ survey_id: string; unit_id: string | null; manager_id: string | null; answers: Record<string, unknown> }> = surveyIds.length
    ? await db('hrm_survey_responses').where({ tenant_id: tenantId }).whereIn('survey_id', surveyIds).select('survey_id', 'unit_id', 'manager_id', 'answers')
    : [];
  const out = new Map<string, StoredResponse[]>(surveyIds.map((id) => [id, []]));
  for (const r of rows) out.get(r.survey_id)!.push({ unitId: r.unit_id, managerId: r.manager_id, answers: r.answers });
  return out;
}
