/** An RFC 9457 problem as Rapport answers it (`application/problem+json`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  requestId?: string;
  errors?: Array<{ path?: string; message?: string }>;
  [extension: string]: unknown;
}

/** Thrown by `ok()` for an answer that is not 2xx; carries the problem document. */
export class RapportProblemError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(url: string, problem: Problem) {
    super(`${url} answered ${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'RapportProblemError';
    this.status = problem.status;
    this.problem = problem;
  }
}

interface Outcome {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/**
 * The data of a successful call, or a `RapportProblemError` naming the request and what the
 * server said: `const party = ok(await client.GET('/api/v1/parties/{id}', { params: { path: { id } } }))`.
 */
export function ok<R extends Outcome>(outcome: R): Exclude<R['data'], undefined> {
  const { response } = outcome;
  if (response.ok) return outcome.data as Exclude<R['data'], undefined>;
  const problem = toProblem(outcome.error, response);
  const url = response.url ? new URL(response.url) : undefined;
  throw new RapportProblemError(url ? url.pathname + url.search : 'The request', problem);
}

function toProblem(error: unknown, response: Response): Problem {
  if (error && typeof error === 'object' && typeof (error as Problem).status === 'number') return error as Problem;
  return { type: 'about:blank', title: response.statusText || 'Error', status: response.status, detail: typeof error === 'string' ? error : undefined };
}
