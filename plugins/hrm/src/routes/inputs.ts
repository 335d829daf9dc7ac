import { z } from 'zod';
import { contactPointSchema } from '@rapport/core';

/* Input pieces several of HRM's routes take. */

export const name = z.string().trim().min(1).max(300);
/** A new person (a hire, a candidate): a name and, optionally, contact points. */
export const newPerson = z.strictObject({ name, contactPoints: z.array(contactPointSchema).max(50).optional() });
