/*
 * Event patterns of webhook subscriptions, with the same semantics as the in-process bus
 * (eventemitter2, '.' delimiter): `*` is exactly one segment, `**` any number of segments
 * including none. A subscriber that learnt patterns from `api.hooks.on` gets no surprises.
 */

const SEGMENT = /^(?:\*\*?|[A-Za-z0-9_-]+)$/;
export const MAX_PATTERN_LENGTH = 200;

/** Why a pattern is not valid, or undefined when it is. */
export function eventPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'must not be empty';
  if (pattern.length > MAX_PATTERN_LENGTH) return `must be at most ${MAX_PATTERN_LENGTH} characters`;
  const segments = pattern.split('.');
  if (segments.some((s) => s === '')) return 'segments are separated by single dots and may not be empty';
  const bad = segments.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) return `segment "${bad}" must be a name (letters, digits, "_", "-"), "*" or "**"`;
  return undefined;
}

export function isEventPattern(pattern: string): boolean {
  return eventPatternProblem(pattern) === undefined;
}

/** Does `name` (e.g. `crm.deal.won`) match `pattern` (e.g. `crm.*.won`, `crm.**`, `**`)? */
export function matchesEventPattern(pattern: string, name: string): boolean {
  return matchSegments(pattern.split('.'), 0, name.split('.'), 0);
}

export function matchesAnyPattern(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => matchesEventPattern(p, name));
}

function matchSegments(pattern: string[], pi: number, name: string[], ni: number): boolean {
  if (pi === pattern.length) return ni === name.length;
  const segment = pattern[pi];
  if (segment === '**') {
    // Zero segments, or swallow one and try again.
    for (let skip = ni; skip <= name.length; skip++) if (matchSegments(pattern, pi + 1, name, skip)) return true;
    return false;
  }
  if (ni === name.length) return false;
  if (segment !== '*' && segment !== name[ni]) return false;
  return matchSegments(pattern, pi + 1, name, ni + 1);
}
