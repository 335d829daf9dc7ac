import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreServices, definePlugin, type Rapport, type RapportConfig, type Sealer } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import { Scheduler } from '../src/jobs/scheduler.js';
import { WebhookSecrets } from '../src/webhooks/secrets.js';

/* coreServices.sealing: what a plugin keeps that a reader of the database must not read. */

let t: TestApp;
let sealing: Sealer | undefined;

beforeAll(async () => {
  const keeper = definePlugin({
    name: 'keeper',
    version: '1.0.0',
    requires: { core: '^0.1.0' },
    deps: { sealing: coreServices.sealing },
    setup(_api, deps) {
      sealing = deps.sealing;
    },
  });
  t = await createTestApp({ plugins: [keeper] });
});
afterAll(async () => {
  await t?.close();
});

describe('coreServices.sealing', () => {
  it('seals under the secret key, bound to the plugin, the tenant and the purpose', () => {
    expect(sealing!.available).toBe(true);
    const sealed = sealing!.seal(t.tenantId, 'answers:1', '{"recommend":9}');
    expect(sealed).not.toContain('recommend');
    expect(sealing!.seal(t.tenantId, 'answers:1', '{"recommend":9}')).not.toBe(sealed);
    expect(sealing!.open(t.tenantId, 'answers:1', sealed)).toBe('{"recommend":9}');
    // Copied onto another purpose, tenant or plugin it does not open.
    expect(() => sealing!.open(t.tenantId, 'answers:2', sealed)).toThrow(/does not decrypt/);
    expect(() => sealing!.open('0190c9a4-0000-7000-8000-000000000009', 'answers:1', sealed)).toThrow(/does not decrypt/);
    expect(() => t.app.webhookSecrets.sealerFor('other').open(t.tenantId, 'answers:1', sealed)).toThrow(/does not decrypt/);
  });

  it('answers 503 naming the setting on PostgreSQL without a key', () => {
    const props: PropertyDescriptorMap = { config: { value: { ...t.app.config, secretKey: undefined } as RapportConfig }, databaseKind: { value: 'postgres' } };
    const noKey = new WebhookSecrets(Object.create(t.app, props) as Rapport, new Scheduler(t.app)).sealerFor('keeper');
    expect(noKey.available).toBe(false);
    let refused: any;
    try {
      noKey.seal(t.tenantId, 'answers:1', 'x');
    } catch (error) {
      refused = error;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.message).toMatch(/keeper: .*RAPPORT_SECRET_KEY/);
  });
});
