import type Koa from 'koa';
import { z } from 'zod';
import { problemTitle, RapportError, ValidationError, type ProblemDetails } from '../errors.js';
import { databaseProblem } from './database-errors.js';

/** Any thrown value → an RFC 9457 problem document, of bounded size. Unknown errors never leak details. */
export function toProblem(error: unknown, requestId: string): ProblemDetails {
  return bounded(problemOf(error, requestId));
}

function problemOf(error: unknown, requestId: string): ProblemDetails {
  if (error instanceof RapportError) return { ...error.toProblem(), requestId };
  const fromDatabase = databaseProblem(error);
  if (fromDatabase) return { ...fromDatabase.toProblem(), requestId };
  if (error instanceof z.ZodError) return { ...zodToValidation(error, 'body').toProblem(), requestId };
  const status = (error as { status?: number; statusCode?: number; expose?: boolean })?.status ?? (error as { statusCode?: number })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = HTTP_CODES[status] ?? 'bad-request';
    const expose = (error as { expose?: boolean }).expose !== false;
    return {
      type: `https://rapport.dev/problems/${code}`,
      title: problemTitle(status),
      status,
      detail: expose ? cleanMessage((error as Error).message, status) : problemTitle(status),
      requestId,
    };
  }
  return {
    type: 'https://rapport.dev/problems/internal',
    title: 'Internal Server Error',
    status: 500,
    detail: 'An unexpected error occurred; the request id identifies it in the server log',
    requestId,
  };
}

export function zodToValidation(error: z.ZodError, where: 'body' | 'query' | 'params'): ValidationError {
  const issues = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${(issue as { keys: string[] }).keys.join(', ')}` : issue.message,
  }));
  return new ValidationError(`The request ${where} is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

/* An answer to bad input never grows with it: the detail, each issue and the number of issues are capped (a 1 MB field is not echoed back). */
const MAX_DETAIL = 2000;
const MAX_ISSUES = 50;
const MAX_TEXT = 300;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

function bounded(problem: ProblemDetails): ProblemDetails {
  const out: ProblemDetails = { ...problem };
  if (typeof out.detail === 'string') out.detail = clip(out.detail, MAX_DETAIL);
  const issues = out.errors;
  if (Array.isArray(issues)) {
    out.errors = issues.slice(0, MAX_ISSUES).map((issue: { path?: unknown; message?: unknown }) => ({
      path: clip(String(issue.path), MAX_TEXT),
      message: clip(String(issue.message), MAX_TEXT),
    }));
    if (issues.length > MAX_ISSUES) out.errorsOmitted = issues.length - MAX_ISSUES;
  }
  return out;
}

export function sendProblem(ctx: Koa.Context, problem: ProblemDetails): void {
  const retryAfter = problem.retryAfterSeconds;
  if (typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
  ctx.status = problem.status;
  ctx.type = 'application/problem+json';
  ctx.body = problem;
}

const HTTP_CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable',
};

function cleanMessage(message: string, status: number): string {
  if (status === 413) return 'The request body is larger than the server accepts';
  if (/JSON|Unexpected token|Unexpected end/i.test(message)) return 'The request body is not valid JSON';
  return message;
}
