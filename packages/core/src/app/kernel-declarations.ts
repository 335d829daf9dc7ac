import type { KernelModule } from './module.js';
import type { KernelRegistries } from '../kernel/kernel.js';
import type { PermissionDefinition } from '../kernel/types.js';
import { ACCESS_PERMISSIONS } from '../access/routes.js';
import { RECORD_PERMISSIONS } from '../http/kernel/module.js';
import { PLUGIN_PERMISSIONS } from '../http/kernel/meta.js';
import { HTTP_PERMISSIONS } from '../http/server.js';
import { IMPORT_PERMISSIONS } from '../import/routes.js';
import { JOB_PERMISSIONS } from '../jobs/routes.js';
import { WEBHOOK_PERMISSIONS } from '../webhooks/routes.js';
import { z } from 'zod';
import { ATTACHMENT_PERMISSIONS } from '../attachments/routes.js';
import { ATTACHMENT_INTERACTION_TYPE } from '../attachments/service.js';
import { AUTOMATION_PERMISSIONS } from '../automation/routes.js';
import { FEDERATION_PERMISSIONS } from '../federation/routes.js';

/** Permissions the kernel's own routes require (each module declares its own). Plugins declare theirs in setup. */
export const KERNEL_PERMISSIONS: readonly PermissionDefinition[] = [
  ...RECORD_PERMISSIONS,
  ...PLUGIN_PERMISSIONS,
  ...WEBHOOK_PERMISSIONS,
  ...ACCESS_PERMISSIONS,
  ...IMPORT_PERMISSIONS,
  ...JOB_PERMISSIONS,
  ...ATTACHMENT_PERMISSIONS,
  ...AUTOMATION_PERMISSIONS,
  ...FEDERATION_PERMISSIONS,
  ...HTTP_PERMISSIONS,
];

/** What the kernel declares of its own: its modules' permissions, the server's, and the one interaction type every system has. */
export function declareKernel(registries: KernelRegistries, modules: readonly KernelModule[]): void {
  for (const permission of [...modules.flatMap((m) => m.permissions), ...HTTP_PERMISSIONS]) registries.permissions.define('core', permission);
  // A plain note is the one interaction every system needs, with or without plugins.
  registries.interactionTypes.define('core', {
    key: 'note',
    title: 'Note',
    description: 'A free-text note about the participants',
  });
  // A file attached to a party, a relationship or a plugin record, on its parties' timelines.
  registries.interactionTypes.define('core', {
    key: ATTACHMENT_INTERACTION_TYPE,
    title: 'Attachment',
    description: 'A file attached to the record (GET /api/v1/attachments/{attachmentId})',
    attributes: z.strictObject({
      attachmentId: z.uuid(),
      recordType: z.string(),
      recordId: z.string(),
      contentType: z.string(),
      size: z.number().int().nonnegative(),
    }),
  });
}
