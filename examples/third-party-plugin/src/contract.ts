import { defineContract, event } from '@rapport/core';
import type { Movement } from './records.js';

/** What other plugins may use of the loyalty plugin: its events, typed. */
export const loyalty = defineContract('loyalty', {
  events: {
    pointsAwarded: event<Movement>('points.awarded'),
    pointsRedeemed: event<Movement>('points.redeemed'),
  },
});
