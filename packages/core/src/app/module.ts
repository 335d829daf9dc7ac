import type { RouteBuilder } from '../http/routes.js';
import type { PermissionDefinition } from '../kernel/types.js';

/**
 * One of the kernel's own subsystems (records, access, webhooks, jobs, imports, plugins),
 * registered the way a plugin registers: the permissions it declares, the routes it mounts
 * (under /api/v1, owner `core`), and what it starts and stops with the system. Its tasks
 * are declared on the scheduler when it is built; its tables are in the kernel's migrations.
 * A module gets the narrow capabilities it names, never the whole system.
 */
export interface KernelModule {
  readonly name: string;
  readonly permissions: readonly PermissionDefinition[];
  routes(r: RouteBuilder): void;
  start?(): void;
  stop?(): Promise<void>;
}
