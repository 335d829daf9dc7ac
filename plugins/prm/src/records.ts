import { defineRecord } from '@rapport/core';
import {
  certificationSchema,
  courseSchema,
  deliverySchema,
  leadOfferSchema,
  leadRuleSchema,
  leadSchema,
  mdfBudgetSchema,
  mdfRequestSchema,
  planEditSchema,
  planItemSchema,
  planSchema,
  programSchema,
  purchaseOrderSchema,
  quoteSchema,
  registrationSchema,
  rfqSchema,
  sharedDocumentSchema,
} from '@rapport/prm-contract';

/*
 * Row mappers of PRM's tables, derived from the contract's record schemas: each field is the
 * snake_case column of its name; `null` marks a field computed at read time, not stored.
 */

export const registrationRecord = defineRecord(registrationSchema);
export const programRecord = defineRecord(programSchema);
export const mdfBudgetRecord = defineRecord(mdfBudgetSchema, { columns: { own: null } });
export const mdfRequestRecord = defineRecord(mdfRequestSchema);
export const leadRuleRecord = defineRecord(leadRuleSchema);
export const leadOfferRecord = defineRecord(leadOfferSchema);
export const leadRecord = defineRecord(leadSchema, { columns: { offers: null } });
export const courseRecord = defineRecord(courseSchema);
export const certificationRecord = defineRecord(certificationSchema, { columns: { valid: null } });
export const planRecord = defineRecord(planSchema);
export const planItemRecord = defineRecord(planItemSchema);
export const planEditRecord = defineRecord(planEditSchema);
export const documentRecord = defineRecord(sharedDocumentSchema);
export const rfqRecord = defineRecord(rfqSchema, { columns: { supplierIds: null, quotes: null } });
export const quoteRecord = defineRecord(quoteSchema, { columns: { onTime: null } });
export const purchaseOrderRecord = defineRecord(purchaseOrderSchema, { columns: { deliveries: null } });
export const deliveryRecord = defineRecord(deliverySchema);
