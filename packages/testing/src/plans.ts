import type { Knex } from 'knex';

/** A node of `EXPLAIN (FORMAT JSON)`. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Plan Rows'?: number;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

/** A statement as knex sent it: PostgreSQL placeholders ($1, $2…) and their values. */
export interface CapturedQuery {
  sql: string;
  bindings: readonly unknown[];
}

/**
 * The list query `run` sends on `table`: the first statement that reads `table` with an
 * ORDER BY while `run` runs (a page's second query and background work are ignored).
 */
export async function captureListQuery(knex: Knex, table: string, run: () => Promise<unknown>): Promise<CapturedQuery> {
  const seen: Array<{ sql: string; bindings?: readonly unknown[] }> = [];
  const onQuery = (query: { sql: string; bindings?: readonly unknown[] }) => seen.push(query);
  knex.on('query', onQuery);
  try {
    await run();
  } finally {
    knex.off('query', onQuery);
  }
  const from = new RegExp(`from "${table}"|from ${table}\\b`, 'i');
  const query = seen.find((q) => from.test(q.sql) && / order by /i.test(q.sql));
  if (!query) throw new Error(`captureListQuery: no ordered query on ${table} among ${seen.length} statements:\n${seen.map((q) => q.sql).join('\n')}`);
  return { sql: query.sql, bindings: query.bindings ?? [] };
}

/** The plan PostgreSQL chooses for `query` (same parameter values), on `knex` (a transaction, say). */
export async function explainQuery(knex: Knex, query: CapturedQuery): Promise<PlanNode> {
  // knex.raw takes positional ? bindings; a literal ? is escaped.
  const bindings: unknown[] = [];
  const text = query.sql.replace(/\?/g, '\\?').replace(/\$(\d+)/g, (_match, n: string) => {
    bindings.push(query.bindings[Number(n) - 1]);
    return '?';
  });
  const result = await knex.raw(`explain (format json) ${text}`, bindings as Knex.RawBinding[]);
  const json = (result.rows as Array<{ 'QUERY PLAN': unknown }>)[0]['QUERY PLAN'];
  const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as Array<{ Plan: PlanNode }>;
  return parsed[0].Plan;
}

/** `captureListQuery` then `explainQuery` on the same handle. */
export async function listPlan(knex: Knex, table: string, run: () => Promise<unknown>): Promise<PlanNode> {
  return explainQuery(knex, await captureListQuery(knex, table, run));
}

/** Every node of a plan, depth first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/**
 * What keeps a list's plan from staying flat with size: a sequential scan of `table`, a sort
 * (the whole filtered tenant read and sorted to return a page), or no index of `table` read
 * at all. Empty when the page is one walk of an index in the list's order.
 */
export function listPlanProblems(plan: PlanNode, table: string): string[] {
  const nodes = planNodes(plan);
  const problems: string[] = [];
  for (const node of nodes) if (node['Node Type'] === 'Seq Scan' && node['Relation Name'] === table) problems.push(`Seq Scan on ${table}`);
  for (const node of sortsOutsideRowSubPlans(plan)) problems.push(`${node['Node Type']} (${JSON.stringify(node['Sort Key'])})`);
  if (!nodes.some((n) => (n['Node Type'] === 'Index Scan' || n['Node Type'] === 'Index Only Scan') && n['Relation Name'] === table)) problems.push(`no index scan of ${table}`);
  return problems;
}

/**
 * Sort nodes, except those of a correlated subplan that reads by index only: such a subplan
 * runs once per row of the page (the contact points of one party, say), so what it sorts is
 * that row's few children, never the tenant's table.
 */
function sortsOutsideRowSubPlans(plan: PlanNode): PlanNode[] {
  const isSort = (node: PlanNode) => node['Node Type'] === 'Sort' || node['Node Type'] === 'Incremental Sort';
  if (plan['Parent Relationship'] === 'SubPlan' && !planNodes(plan).some((node) => node['Node Type'] === 'Seq Scan')) return [];
  return [...(isSort(plan) ? [plan] : []), ...(plan.Plans ?? []).flatMap(sortsOutsideRowSubPlans)];
}

/** Describes a plan in one line per node, for a failure message. */
export function describePlan(plan: PlanNode, depth = 0): string {
  const name = [plan['Node Type'], plan['Relation Name'] && `on ${plan['Relation Name']}`, plan['Index Name'] && `using ${plan['Index Name']}`].filter(Boolean).join(' ');
  return [`${'  '.repeat(depth)}${name} (rows ${plan['Plan Rows']})`, ...(plan.Plans ?? []).map((p) => describePlan(p, depth + 1))].join('\n');
}
