import { z } from 'zod';
import { sql } from '../../kernel/context.js';
import type { KernelModule } from '../../app/module.js';
import type { KernelRegistries } from '../../kernel/kernel.js';
import type { PermissionDefinition } from '../../kernel/types.js';
import type { PluginHost } from '../../plugins/host.js';
import { findTenant } from '../../kernel/tenants.js';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import type { Principal } from '../../access/principal.js';
import { activeStatusesOf, statusesOf } from '../../kernel/relationships.js';
import type { RouteBuilder } from '../routes.js';
import { indicatorSchema, interactionTypeSchema, partyAttributeSchema, permissionSchema, pluginStatusSchema, relationshipTypeSchema } from './response-schemas.js';

export function metaRoutes(r: RouteBuilder, registries: KernelRegistries): void {
  const tags = ['Meta'];

  r.get('/tenant', {
    summary: 'The caller’s tenant and its self party',
    tags,
    permission: 'meta:read',
    audience: 'any',
    response: z.object({ id: z.uuid(), name: z.string(), selfPartyId: z.uuid() }),
    handler: async (ctx) => {
      const tenant = await findTenant(sql(ctx), ctx.tenantId);
      if (!tenant) throw new NotFoundError('Tenant', ctx.tenantId);
      return tenant;
    },
  });

  r.get('/meta/relationship-types', {
    summary: 'Relationship types declared by enabled plugins',
    tags,
    permission: 'meta:read',
    audience: 'any',
    response: z.object({ data: z.array(relationshipTypeSchema) }),
    handler: () => ({
      data: registries.relationshipTypes.list().map((t) => ({
        key: t.key,
        owner: t.owner,
        title: t.title ?? t.key,
        description: t.description ?? null,
        fromRole: t.fromRole,
        toRole: t.toRole,
        fromKinds: t.fromKinds ?? null,
        toKinds: t.toKinds ?? null,
        symmetric: t.symmetric ?? false,
        internalOnly: t.internalOnly ?? false,
        statuses: statusesOf(t),
        activeStatuses: activeStatusesOf(t),
        transitions: t.transitions ?? null,
        attributes: t.attributes ? z.toJSONSchema(t.attributes, { unrepresentable: 'any' }) : null,
      })),
    }),
  });

  r.get('/meta/interaction-types', {
    summary: 'Interaction types declared by the kernel and enabled plugins',
    tags,
    permission: 'meta:read',
    audience: 'any',
    response: z.object({ data: z.array(interactionTypeSchema) }),
    handler: () => ({
      data: registries.interactionTypes.list().map((t) => ({
        key: t.key,
        owner: t.owner,
        title: t.title ?? t.key,
        description: t.description ?? null,
        participantRoles: t.participantRoles ?? null,
        channels: t.channels ?? null,
        attributes: t.attributes ? z.toJSONSchema(t.attributes, { unrepresentable: 'any' }) : null,
      })),
    }),
  });

  r.get('/meta/indicators', {
    summary: 'Indicators (quantitative and qualitative) declared by enabled plugins',
    tags,
    permission: 'meta:read',
    audience: 'any',
    response: z.object({ data: z.array(indicatorSchema) }),
    handler: () => ({
      data: registries.indicators.list().map((i) => ({
        key: i.key,
        owner: i.owner,
        title: i.title ?? i.key,
        description: i.description ?? null,
        subject: i.subject,
        kind: i.kind,
        hiddenFromSubject: i.hiddenFromSubject ?? false,
        unit: i.kind === 'quantitative' ? (i.unit ?? null) : null,
        scale: i.scale ? { ...i.scale } : null,
        aggregate: i.kind === 'quantitative' ? (i.aggregate ?? null) : null,
        text: i.kind === 'qualitative' ? (i.text ?? true) : null,
      })),
    }),
  });

  r.get('/meta/party-attributes', {
    summary: 'Party attributes declared by enabled plugins',
    tags,
    permission: 'meta:read',
    audience: 'any',
    response: z.object({ data: z.array(partyAttributeSchema) }),
    handler: () => ({
      data: registries.partyAttributes.list().map((a) => ({
        key: a.key,
        owner: a.owner,
        description: a.description ?? null,
        kinds: a.kinds ?? null,
        schema: z.toJSONSchema(a.schema, { unrepresentable: 'any' }),
      })),
    }),
  });

  r.get('/meta/permissions', {
    summary: 'Permissions declared by the kernel and enabled plugins',
    tags,
    permission: 'meta:read',
    audience: 'any',
    response: z.object({ data: z.array(permissionSchema) }),
    handler: () => ({ data: registries.permissions.list().map((p) => ({ key: p.key, owner: p.owner, description: p.description ?? null })) }),
  });
}

export const PLUGIN_PERMISSIONS: readonly PermissionDefinition[] = [
  { key: 'plugins:read', description: 'List plugins and their state' },
  { key: 'plugins:manage', description: 'Enable, disable and uninstall plugins' },
];

/** Plugins over HTTP: their state, and enabling, disabling and uninstalling them (docs/cli.md). */
export function pluginsModule(app: PluginsHost): KernelModule {
  return { name: 'plugins', permissions: PLUGIN_PERMISSIONS, routes: (r) => pluginRoutes(r, app) };
}

export interface PluginsHost {
  readonly plugins: Pick<PluginHost, 'statuses' | 'enable' | 'disable' | 'uninstall'>;
  readonly defaultTenant: { readonly id: string };
}

function pluginRoutes(r: RouteBuilder, app: PluginsHost): void {
  const tags = ['Plugins'];
  const nameParams = z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/) });
  // A plugin's state applies to every tenant, so only the operator's tenant (the first one) may change it.
  const operatorOnly = (principal: Principal) => {
    if (principal.tenantId !== app.defaultTenant.id) {
      throw new ForbiddenError('Plugins apply to every tenant; only the operator tenant may enable, disable or uninstall them');
    }
  };

  r.get('/plugins', {
    summary: 'Configured plugins, their state and what each registered',
    tags,
    permission: 'plugins:read',
    response: z.object({ data: z.array(pluginStatusSchema) }),
    handler: () => ({ data: app.plugins.statuses() }),
  });

  r.post('/plugins/:name/enable', {
    summary: 'Enable a plugin (runs pending migrations; installs it again after an uninstall)',
    tags,
    permission: 'plugins:manage',
    params: nameParams,
    response: pluginStatusSchema,
    status: 200,
    handler: ({ params, principal }) => {
      operatorOnly(principal);
      return app.plugins.enable(params.name);
    },
  });

  r.post('/plugins/:name/disable', {
    summary: 'Disable a plugin: its routes, hooks and types go away, its data stays',
    tags,
    permission: 'plugins:manage',
    params: nameParams,
    response: pluginStatusSchema,
    status: 200,
    handler: ({ params, principal }) => {
      operatorOnly(principal);
      return app.plugins.disable(params.name);
    },
  });

  r.post('/plugins/:name/uninstall', {
    summary: 'Uninstall a plugin; `purge: true` also drops its tables',
    tags,
    permission: 'plugins:manage',
    params: nameParams,
    body: z.strictObject({ purge: z.boolean().default(false) }),
    response: pluginStatusSchema,
    status: 200,
    handler: ({ params, body, principal }) => {
      operatorOnly(principal);
      return app.plugins.uninstall(params.name, { purge: body.purge });
    },
  });
}
