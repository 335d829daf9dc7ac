import { ValidationError } from '../errors.js';
import type { ContactPoint } from './types.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * The form two contact points are compared in for de-duplication: e-mail lower-cased,
 * phone digits only (keeping a leading +), domain without scheme, "www." or path.
 */
export function normalizeContactPoint(point: ContactPoint, index = 0): string {
  const value = point.value.trim();
  const path = `contactPoints.${index}.value`;
  switch (point.kind) {
    case 'email': {
      const email = value.toLowerCase();
      if (!EMAIL.test(email)) throw new ValidationError(`"${value}" is not an e-mail address`, [{ path, message: 'invalid e-mail' }]);
      return email;
    }
    case 'phone': {
      const digits = value.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '');
      if (digits.replace('+', '').length < 4) throw new ValidationError(`"${value}" is not a phone number`, [{ path, message: 'invalid phone number' }]);
      return digits;
    }
    case 'domain':
    case 'url': {
      const host = value
        .toLowerCase()
        .replace(/^[a-z]+:\/\//, '')
        .replace(/^www\./, '')
        .replace(/[/?#:].*$/, '');
      if (!DOMAIN.test(host)) throw new ValidationError(`"${value}" is not a web domain`, [{ path, message: 'invalid domain' }]);
      return point.kind === 'url' ? value.toLowerCase() : host;
    }
    default:
      return value.toLowerCase();
  }
}

/** The domain of an e-mail address also identifies its organization; used to find candidates. */
export function normalizedPoints(points: readonly ContactPoint[]): Array<ContactPoint & { normalized: string }> {
  const seen = new Set<string>();
  const out: Array<ContactPoint & { normalized: string }> = [];
  points.forEach((point, index) => {
    const normalized = normalizeContactPoint(point, index);
    const key = `${point.kind}:${normalized}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ kind: point.kind, value: point.value.trim(), normalized });
  });
  return out;
}
