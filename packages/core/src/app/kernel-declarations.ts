import type { KernelRegistries } from '../kernel/kernel.js';

/** Permissions the kernel's own routes require. Plugins declare theirs in setup. */
export const KERNEL_PERMISSIONS: Array<{ key: string; description: string }> = [
  { key: 'parties:read', description: 'Read parties, their timelines and duplicate candidates' },
  { key: 'parties:write', description: 'Create, change, archive and merge parties' },
  { key: 'relationships:read', description: 'Read relationships' },
  { key: 'relationships:write', description: 'Create and change relationships' },
  { key: 'interactions:read', description: 'Read interactions and timelines' },
  { key: 'interactions:write', description: 'Record and change interactions' },
  { key: 'observations:read', description: 'Read indicator observations' },
  { key: 'observations:write', description: 'Record indicator observations' },
  { key: 'meta:read', description: 'Read type registries and the tenant' },
  { key: 'plugins:read', description: 'List plugins and their state' },
  { key: 'plugins:manage', description: 'Enable, disable and uninstall plugins' },
  { key: 'webhooks:read', description: 'Read webhook subscriptions and their delivery logs' },
  { key: 'webhooks:write', description: 'Create, change and delete webhook subscriptions' },
  { key: 'access:manage', description: 'Manage users, API keys and roles' },
  { key: 'audit:read', description: 'Read the audit log' },
  { key: 'imports:write', description: 'Run bulk imports' },
  { key: 'jobs:read', description: 'Read every background job of the tenant (everyone reads their own)' },
  { key: 'jobs:manage', description: 'Cancel any background job of the tenant (everyone cancels their own)' },
  { key: 'metrics:read', description: 'Scrape Prometheus metrics' },
];

export function declareKernel(registries: KernelRegistries): void {
  for (const permission of KERNEL_PERMISSIONS) registries.permissions.define('core', permission);
  // A plain note is the one interaction every system needs, with or without plugins.
  registries.interactionTypes.define('core', {
    key: 'note',
    title: 'Note',
    description: 'A free-text note about the participants',
  });
}
