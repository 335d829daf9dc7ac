import { defineContract } from '@rapport/core';

/** HRM's contract: what other plugins may use of it (its events and records). */
export const hrm = defineContract('hrm', {});
