import { NotFoundError } from '@rapport/core';

/** 404 for one of PRM's records (`prm lead offer … was not found`); also what a caller outside its scope gets. */
export function notFound(record: string, id: string): NotFoundError {
  return new NotFoundError(`prm ${record}`, id);
}
