import { z } from 'zod';
import { sendCsv, type RouteBuilder } from '@rapport/core';
import { CUSTOMER_STATUSES } from '@rapport/crm-contract';
import { ACCOUNT_EXPORT_COLUMNS, CONTACT_EXPORT_COLUMNS, DEAL_EXPORT_COLUMNS, type ExportService } from '../services/exports.js';
import { dealFilters } from './deals.js';

const tags = ['crm'];
/** The export routes answer a streamed `text/csv` body: a header line, then one line per record. */
const csv = { raw: true, responseContentType: 'text/csv' } as const;

/** Streaming CSV downloads, scoped exactly like the lists they mirror (so open to scoped principals like them). */
export function exportRoutes(r: RouteBuilder, exports: ExportService): void {
  r.get('/exports/deals', {
    summary: 'Download the deals the caller may see as CSV (own deals only without crm.deals:all)',
    tags,
    permission: 'crm.deals:read',
    audience: 'any',
    query: z.strictObject(dealFilters),
    ...csv,
    handler: (ctx) => sendCsv(ctx.koa, 'deals.csv', DEAL_EXPORT_COLUMNS, exports.dealRows(ctx, ctx.query)),
  });

  r.get('/exports/accounts', {
    summary: 'Download our customers (crm.customer with the self party as vendor) as CSV',
    tags,
    permission: 'crm.accounts:read',
    audience: 'any',
    query: z.strictObject({ status: z.enum(CUSTOMER_STATUSES).optional() }),
    ...csv,
    handler: async (ctx) => sendCsv(ctx.koa, 'accounts.csv', ACCOUNT_EXPORT_COLUMNS, await exports.accountRows(ctx, ctx.query)),
  });

  r.get('/exports/contacts', {
    summary: 'Download contacts (crm.contact: a person at an organization, with job title) as CSV',
    tags,
    permission: 'crm.accounts:read',
    audience: 'any',
    query: z.strictObject({ organizationId: z.uuid().optional() }),
    ...csv,
    handler: (ctx) => sendCsv(ctx.koa, 'contacts.csv', CONTACT_EXPORT_COLUMNS, exports.contactRows(ctx, ctx.query)),
  });
}
