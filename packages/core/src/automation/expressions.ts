import jsonLogic from 'json-logic-js';

/*
 * Conditions and action parameters are JSON Logic (jsonlogic.com): data, not code. Nothing is
 * evaluated with eval or Function; the operations are a fixed list, checked when a rule is
 * saved. `method` (calls a method of a value) and `log` are not on it.
 */
const ALLOWED = new Set([
  'var',
  'missing',
  'missing_some',
  'if',
  '?:',
  '==',
  '===',
  '!=',
  '!==',
  '!',
  '!!',
  'or',
  'and',
  '>',
  '>=',
  '<',
  '<=',
  'max',
  'min',
  '+',
  '-',
  '*',
  '/',
  '%',
  'map',
  'reduce',
  'filter',
  'all',
  'none',
  'some',
  'merge',
  'in',
  'cat',
  'substr',
]);

jsonLogic.rm_operation('method');

const MAX_DEPTH = 32;
const MAX_NODES = 1000;

/** Why an expression is not acceptable (with the path of the bad part), or undefined. */
export function expressionProblem(expression: unknown, path: string): { path: string; message: string } | undefined {
  let nodes = 0;
  const walk = (value: unknown, at: string, depth: number): { path: string; message: string } | undefined => {
    if (++nodes > MAX_NODES) return { path, message: `is too large (more than ${MAX_NODES} parts)` };
    if (depth > MAX_DEPTH) return { path: at, message: `nests deeper than ${MAX_DEPTH} levels` };
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
    if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path: at, message: 'numbers must be finite' };
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const problem = walk(value[i], `${at}[${i}]`, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    if (typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length !== 1) return { path: at, message: `an operation is an object with exactly one key (the operator), not ${keys.length}` };
      const operator = keys[0];
      if (!ALLOWED.has(operator)) return { path: at, message: `unknown operator "${operator}"; one of ${[...ALLOWED].join(', ')}` };
      const args = (value as Record<string, unknown>)[operator];
      if (operator === 'var' && !isVarArgument(args)) return { path: `${at}.var`, message: 'takes a path such as "payload.deal.amount" (optionally with a default: ["path", default])' };
      return walk(args, `${at}.${operator}`, depth + 1);
    }
    return { path: at, message: `a ${typeof value} is not JSON` };
  };
  return walk(expression, path, 0);
}

function isVarArgument(args: unknown): boolean {
  if (typeof args === 'string' || typeof args === 'number') return true;
  if (Array.isArray(args) && args.length >= 1 && args.length <= 2 && (typeof args[0] === 'string' || typeof args[0] === 'number')) return true;
  return false;
}

/** Whether a value holds any operation (an object), i.e. is not a plain literal. */
export function isLiteral(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(isLiteral);
  return false;
}

export function evaluate(expression: unknown, data: unknown): unknown {
  return jsonLogic.apply(expression as jsonLogic.RulesLogic, data);
}

/** Truthiness as JSON Logic defines it (an empty array is false). */
export function truthy(value: unknown): boolean {
  return jsonLogic.truthy(value);
}
