import { v7 as uuidv7, validate, version } from 'uuid';

/** Time-ordered ids keep B-tree inserts at the right edge of the index. */
export function newId(): string {
  return uuidv7();
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && validate(value);
}

export { version as uuidVersion };
