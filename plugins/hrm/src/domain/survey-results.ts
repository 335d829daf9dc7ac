import type { GroupResult, QuestionResult, Survey, SurveyQuestion } from '@rapport/hrm-contract';

/** eNPS: % promoters (9–10) minus % detractors (0–6), from -100 to 100; null without answers. */
export function enps(scores: readonly number[]): number | null {
  if (scores.length === 0) return null;
  const promoters = scores.filter((s) => s >= 9).length;
  const detractors = scores.filter((s) => s <= 6).length;
  return round(((promoters - detractors) / scores.length) * 100);
}

const round = (n: number) => Math.round(n * 100) / 100;

export interface StoredResponse {
  unitId: string | null;
  managerId: string | null;
  answers: Record<string, unknown>;
}

export function summarize(survey: Pick<Survey, 'questions'>, responses: readonly StoredResponse[]): GroupResult {
  const questions = survey.questions.map((q) => {
    const values = responses.map((r) => r.answers[q.id]).filter((v) => v !== undefined && v !== null);
    const result: QuestionResult = { id: q.id, type: q.type, answered: values.length };
    if (q.type === 'scale' || q.type === 'enps') {
      const numbers = values as number[];
      result.mean = numbers.length ? round(numbers.reduce((a, b) => a + b, 0) / numbers.length) : null;
      result.distribution = countBy(numbers.map(String));
      if (q.type === 'enps') result.enps = enps(numbers);
    } else if (q.type === 'choice') {
      result.distribution = countBy(values as string[]);
    }
    return result;
  });
  const firstEnps = questions.find((q) => q.type === 'enps');
  return { responses: responses.length, enps: firstEnps?.enps ?? null, questions };
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

const NO_GROUP = '(none)';

export type GroupOutcome = { key: string; suppressed: true } | ({ key: string; suppressed: false } & GroupResult);

/**
 * Results per group (unit, manager) under the anonymity threshold. A group below it is
 * suppressed; and if the suppressed groups together hold fewer than the threshold (but some),
 * the smallest shown groups are suppressed too — otherwise the overall result minus the
 * shown groups would give the small group's answers by subtraction.
 */
export function groupResults(survey: Pick<Survey, 'questions'>, responses: readonly StoredResponse[], keyOf: (r: StoredResponse) => string | null, minGroupSize: number): GroupOutcome[] {
  const groups = new Map<string, StoredResponse[]>();
  for (const r of responses) {
    const key = keyOf(r) ?? NO_GROUP;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const sizes = [...groups.entries()].map(([key, list]) => ({ key, size: list.length }));
  // Answers outside any group ('(none)': no manager, say) are never served per group, so they count as hidden.
  const suppressed = new Set(sizes.filter((g) => g.size < minGroupSize || g.key === NO_GROUP).map((g) => g.key));
  const hiddenTotal = () => sizes.filter((g) => suppressed.has(g.key)).reduce((a, g) => a + g.size, 0);
  while (hiddenTotal() > 0 && hiddenTotal() < minGroupSize) {
    const smallestShown = sizes.filter((g) => !suppressed.has(g.key)).sort((a, b) => a.size - b.size || a.key.localeCompare(b.key))[0];
    if (!smallestShown) break;
    suppressed.add(smallestShown.key);
  }
  return [...groups.entries()]
    .filter(([key]) => key !== NO_GROUP)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, list]) => (suppressed.has(key) ? { key, suppressed: true as const } : { key, suppressed: false as const, ...summarize(survey, list) }));
}

/** Validates answers against the questions; returns the issues (empty when valid). */
export function answerIssues(questions: readonly SurveyQuestion[], answers: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const byId = new Map(questions.map((q) => [q.id, q]));
  for (const [id, value] of Object.entries(answers)) {
    const q = byId.get(id);
    const path = `answers.${id}`;
    if (!q) issues.push({ path, message: 'no such question in this survey' });
    else if (q.type === 'enps' && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 10)) issues.push({ path, message: 'an integer from 0 to 10' });
    else if (q.type === 'scale' && !(Number.isInteger(value) && (value as number) >= (q.min ?? 1) && (value as number) <= (q.max ?? 5)))
      issues.push({ path, message: `an integer from ${q.min ?? 1} to ${q.max ?? 5}` });
    else if (q.type === 'choice' && !(typeof value === 'string' && q.choices?.includes(value))) issues.push({ path, message: `one of ${q.choices?.join(', ')}` });
    else if (q.type === 'text' && !(typeof value === 'string' && value.trim().length > 0 && value.length <= 5000)) issues.push({ path, message: 'text of 1 to 5000 characters' });
  }
  if (Object.keys(answers).length === 0) issues.push({ path: 'answers', message: 'answer at least one question' });
  return issues;
}
