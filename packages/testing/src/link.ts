import { createTestApp, type TestApp, type TestAppOptions } from './test-app.js';
import type { TestClient } from './client.js';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs` (generous: the machine may be loaded). */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'a condition'}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

export interface LinkedSystems {
  /** The inviting system. */
  a: TestApp;
  /** The invited system. */
  b: TestApp;
  /**
   * Links a relationship of `a` (where `a` plays `aRole`) with one of `b` carrying
   * `documentTypes`: invitation at `a`, acceptance at `b`. Answers the link id.
   */
  link(options: { aRelationshipId: string; bRelationshipId: string; aRole: 'buyer' | 'supplier' | 'vendor' | 'partner'; documentTypes: string[] }): Promise<string>;
  /** Waits until both sides have answered and applied everything queued on `linkId`. */
  settled(linkId: string, options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/** A link's health as the links API shows it. */
export async function linkHealth(client: TestClient, linkId: string) {
  const res = await client.get(`/api/v1/federation/links/${linkId}`);
  if (res.status !== 200) throw new Error(`GET link ${linkId}: ${res.status} ${res.text}`);
  return res.body as { state: string; health: { lastSequenceSent: number; lastSequenceAcknowledged: number; lastSequenceApplied: number; behind: number; lastError: string | null } };
}

/**
 * Two running systems, each on its own isolated database, whose federation base URL is their
 * own test server: the contract test kit for a plugin's document types (docs/federation.md).
 * Both push with short pauses; `settled` polls their link health.
 */
export async function createLinkedSystems(options: { a?: TestAppOptions; b?: TestAppOptions; shared?: TestAppOptions } = {}): Promise<LinkedSystems> {
  const configure = (own: TestAppOptions = {}): TestAppOptions => ({
    ...options.shared,
    ...own,
    plugins: own.plugins ?? options.shared?.plugins,
    config: {
      ...options.shared?.config,
      ...own.config,
      federation: { pollIntervalMs: 50, retryBaseMs: 50, maxBackoffMs: 1000, ...options.shared?.config?.federation, ...own.config?.federation },
    },
  });
  const a = await createTestApp(configure(options.a));
  let b: TestApp;
  try {
    b = await createTestApp(configure(options.b));
  } catch (error) {
    await a.close();
    throw error;
  }
  a.app.federation.setBaseUrl(a.baseUrl);
  b.app.federation.setBaseUrl(b.baseUrl);
  return {
    a,
    b,
    async link({ aRelationshipId, bRelationshipId, aRole, documentTypes }) {
      const invitation = await a.admin.post('/api/v1/federation/invitations', { relationshipId: aRelationshipId, localRole: aRole, documentTypes });
      if (invitation.status !== 201) throw new Error(`invitation: ${invitation.status} ${invitation.text}`);
      const accepted = await b.admin.post('/api/v1/federation/links', { invitationUrl: invitation.body.invitationUrl, relationshipId: bRelationshipId });
      if (accepted.status !== 201) throw new Error(`acceptance: ${accepted.status} ${accepted.text}`);
      return accepted.body.id as string;
    },
    async settled(linkId, settle = {}) {
      await eventually(
        async () => {
          const [ha, hb] = await Promise.all([linkHealth(a.admin, linkId), linkHealth(b.admin, linkId)]);
          return ha.health.behind === 0 && hb.health.behind === 0 && ha.health.lastSequenceApplied === hb.health.lastSequenceSent && hb.health.lastSequenceApplied === ha.health.lastSequenceSent;
        },
        { timeoutMs: settle.timeoutMs ?? 60_000, what: `link ${linkId} to settle` },
      );
    },
    async close() {
      await Promise.allSettled([a.close(), b.close()]);
    },
  };
}
