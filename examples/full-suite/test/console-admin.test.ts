import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { login, ok, type RapportClient } from '@rapport/client';
import { axeViolations, launchBrowser, openPage, persona, screenshot, startConsoleServer, untranslatedWords, UI_TIMEOUT, type ConsoleServer } from './console/harness.js';

/*
 * The console's administration pages in Chromium against `rapport serve` of the full suite:
 * a duplicate merged after its dry run, a CSV imported with its rejected rows, a webhook and an
 * API key created (secrets shown once) and removed, the audit log of all that, a timeline of
 * 100 000 interactions scrolled by keyset pages; then every kernel page under axe, by keyboard,
 * at 360 px and in Ukrainian. Each outcome is checked again through the API.
 */
const BULK = 100_000;
const MARK = `c${Date.now().toString(36)}`;

describe('console: administration pages', { timeout: 600_000 }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let admin: RapportClient;
  let token: string;
  let survivorId: string;
  let loserId: string;
  let bulkId: string;
  const created: { webhookId?: string; keyId?: string; importJobId?: string } = {};

  async function api(path: string, init: RequestInit = {}, bearer = token): Promise<Response> {
    return fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${bearer}`, ...(init.headers ?? {}) } });
  }

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    const session = await login({ baseUrl: server.url, email: persona('admin').email, password: persona('admin').password });
    admin = session.client;
    token = session.token;

    // A duplicate pair: one e-mail address on two parties, an interaction on the one to merge away.
    const email = `desk@${MARK}-harbour.example`;
    survivorId = ok(await admin.POST('/api/v1/parties', { body: { kind: 'organization', name: `Harbour Freight ${MARK}`, contactPoints: [{ kind: 'email', value: email }] } })).id;
    loserId = ok(await admin.POST('/api/v1/parties', { body: { kind: 'organization', name: `Harbour Freight Ltd ${MARK}`, contactPoints: [{ kind: 'email', value: email }] } })).id;
    ok(
      await admin.POST('/api/v1/interactions', {
        body: { type: 'note', subject: 'Call before the merge', direction: 'internal', participants: [{ partyId: loserId, role: 'subject' }] },
      }),
    );

    // 100 000 interactions on one party, one a minute going back in time, numbered newest
    // first, written by set-based statements on the database: this file shows the timeline over
    // them, not the importer (its own tests and the import page below cover that), which spent
    // minutes of the file on them. Ten statements, not one: an embedded PGlite runs each in
    // this worker's thread, and the worker must still answer the test runner in between.
    bulkId = ok(await admin.POST('/api/v1/parties', { body: { kind: 'organization', name: `Busy Wharf ${MARK}` } })).id;
    const start = new Date(Date.now() - 3_600_000).toISOString();
    await server.withDatabase(async (db) => {
      for (let from = 1; from <= BULK; from += BULK / 10) {
        await db.raw(
          `with made as (
             insert into rapport_interactions (tenant_id, id, type, occurred_at, direction, subject, attributes, version)
             select p.tenant_id, gen_random_uuid(), 'note', ?::timestamptz - n * interval '1 minute', 'internal', 'Bulk ' || n, '{}'::jsonb, 1
             from rapport_parties p cross join generate_series(?::int, ?::int) as n
             where p.id = ?
             returning tenant_id, id, occurred_at
           )
           insert into rapport_interaction_participants (tenant_id, interaction_id, party_id, role, occurred_at)
           select tenant_id, id, ?, 'subject', occurred_at from made`,
          [start, from, from + BULK / 10 - 1, bulkId, bulkId],
        );
      }
    });
    // A new session on the server's address (on PGlite it has started again, on a new port).
    const again = await login({ baseUrl: server.url, email: persona('admin').email, password: persona('admin').password });
    admin = again.client;
    token = again.token;
    const newest = ok(await admin.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: bulkId }, query: { limit: 1 } } })).data;
    expect(newest.map((i) => i.subject)).toEqual(['Bulk 1']);
  }, 900_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The admin's home page in a fresh context, on the session of the admin's first sign-in through the page. */
  async function adminPage(options: { language?: 'en' | 'uk'; width?: number } = {}): Promise<Page> {
    return openPage(browser, server, persona('admin'), '', options);
  }

  /** The input a label names (a select's label also names its list of options). */
  function field(page: Page, label: string) {
    return page.getByLabel(label, { exact: true }).and(page.locator('input'));
  }

  async function expectAccessible(page: Page) {
    expect(await axeViolations(page)).toEqual([]);
  }

  it('merges a duplicate after showing the dry run, and the API shows the loser merged', async () => {
    const page = await adminPage();
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'Duplicates' }).click();
    await page.getByRole('heading', { name: 'Duplicates' }).waitFor();
    const survivorName = `Harbour Freight ${MARK}`;
    await field(page, 'Party to keep').pressSequentially(survivorName, { delay: 20 });
    await page.getByRole('option', { name: survivorName, exact: true }).click();
    const candidate = page.getByRole('checkbox', { name: `Harbour Freight Ltd ${MARK}` });
    await candidate.waitFor();
    await page.getByText(`desk@${MARK}-harbour.example`).waitFor();
    const mergeButton = page.getByRole('button', { name: 'Merge', exact: true });
    // No merge before a dry run of exactly this choice.
    expect(await mergeButton.isDisabled()).toBe(true);
    await candidate.check();
    await page.getByRole('button', { name: 'Preview the merge' }).click();
    const plan = page.getByTestId('merge-plan');
    await plan.getByText('The merge would move').waitFor();
    await plan.getByText('1 interaction', { exact: true }).waitFor();
    await expectAccessible(page);
    await screenshot(page, server, 'duplicates-preview');
    // The dry run changed nothing.
    expect(ok(await admin.GET('/api/v1/parties/{id}', { params: { path: { id: loserId } } })).mergedIntoId).toBeNull();

    await mergeButton.click();
    await plan.getByText('Merged: moved').waitFor();
    await plan.getByText('1 interaction', { exact: true }).waitFor();
    // The merged party is no longer offered as a duplicate of the survivor.
    await page.getByText('No duplicates found.').waitFor();
    await screenshot(page, server, 'duplicates-merged');
    const loser = await admin.GET('/api/v1/parties/{id}', { params: { path: { id: loserId } } });
    if (loser.response.status === 200) expect(loser.data!.mergedIntoId).toBe(survivorId);
    else expect(loser.response.status).toBe(404);
    const timeline = ok(await admin.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: survivorId }, query: { limit: 10 } } })).data;
    expect(timeline.map((i) => i.subject)).toContain('Call before the merge');
    await page.context().close();
  });

  it('imports a CSV through the page: a progress bar, the rejected rows with their reasons, exactly the good rows in the API', async () => {
    const page = await adminPage();
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'Import' }).click();
    await page.getByRole('heading', { name: 'Import' }).waitFor();
    await field(page, 'Importer').click();
    await page.getByRole('option', { name: 'parties', exact: true }).click();
    await page.getByText('Columns (* required)').waitFor();
    const csv = [
      'kind,name,email',
      `organization,Imported Good One ${MARK},one@${MARK}-import.example`,
      `spaceship,Imported Bad Kind ${MARK},bad@${MARK}-import.example`,
      `person,Imported Good Two ${MARK},two@${MARK}-import.example`,
      `organization,,noname@${MARK}-import.example`,
      `person,Imported Good Three ${MARK},`,
    ].join('\n');
    await page.locator('input[type=file]').setInputFiles({ name: 'parties.csv', mimeType: 'text/csv', buffer: Buffer.from(csv + '\n') });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const job = page.getByTestId('import-job');
    await job.getByRole('progressbar').waitFor();
    await job.getByRole('heading', { name: 'Import finished' }).waitFor();
    expect(await job.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    await job.getByText('Read 5, imported 3, rejected 2').waitFor();
    const rejected = page.getByRole('table');
    await rejected.waitFor();
    const rows = (await rejected.getByRole('row').allInnerTexts()).slice(1).map((r) => r.replace(/\s+/g, ' ').trim());
    // Lines count the header: the bad kind is line 3, the nameless row line 5.
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^3 kind: /);
    expect(rows[1]).toMatch(/^5 name: /);
    await expectAccessible(page);
    await screenshot(page, server, 'import-report');

    const found = ok(await admin.GET('/api/v1/parties', { params: { query: { q: `Imported`, limit: 100 } } })).data.filter((p) => p.name.endsWith(MARK));
    expect(found.map((p) => p.name).sort()).toEqual([`Imported Good One ${MARK}`, `Imported Good Three ${MARK}`, `Imported Good Two ${MARK}`]);
    await page.context().close();
  });

  it('creates a webhook and an API key with their secrets shown once, the key authenticates, and both are removed', async () => {
    const page = await adminPage();
    const nav = page.getByRole('navigation', { name: 'Navigation' });

    await nav.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    const hookUrl = `https://hooks.example/${MARK}`;
    await page.getByRole('textbox', { name: 'Receiver URL' }).fill(hookUrl);
    await page.getByRole('textbox', { name: 'Events' }).fill('parties.*');
    await page.getByRole('button', { name: 'Add a webhook' }).click();
    const hookSecret = (await page.getByTestId('secret-once').locator('pre, code').first().innerText()).trim();
    expect(hookSecret.length).toBeGreaterThanOrEqual(16);
    const row = page.getByRole('row').filter({ hasText: hookUrl });
    await row.waitFor();
    await expectAccessible(page);
    await screenshot(page, server, 'webhooks-secret');
    const hook = ok(await admin.GET('/api/v1/webhooks', { params: { query: { limit: 100 } } })).data.find((h) => h.url === hookUrl)!;
    created.webhookId = hook.id;
    expect(JSON.stringify(hook)).not.toContain(hookSecret);
    // Shown once: neither a reload nor coming back shows it again.
    await page.reload();
    await row.waitFor();
    expect(await page.getByTestId('secret-once').count()).toBe(0);
    expect(await page.content()).not.toContain(hookSecret);
    await row.getByRole('button', { name: 'Delete' }).click();
    await page
      .getByText('No webhooks.')
      .or(page.getByRole('row').filter({ hasNotText: hookUrl }).first())
      .waitFor();
    await expect.poll(() => row.count(), { timeout: UI_TIMEOUT }).toBe(0);
    expect((await admin.GET('/api/v1/webhooks/{id}', { params: { path: { id: hook.id } } })).response.status).toBe(404);

    await nav.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    const keyName = `Console key ${MARK}`;
    await page.getByRole('textbox', { name: 'Name' }).fill(keyName);
    await field(page, 'Roles').click();
    await page.getByRole('option', { name: 'sales-rep', exact: true }).click();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Create a key' }).click();
    const keyToken = (await page.getByTestId('secret-once').locator('pre, code').first().innerText()).trim();
    const keyRow = page.getByRole('row').filter({ hasText: keyName });
    await keyRow.waitFor();
    await keyRow.getByText('sales-rep').waitFor();
    await screenshot(page, server, 'keys-secret');
    // The token works on its own, with the key's role: it reads parties but cannot manage keys.
    expect((await api('/api/v1/parties?limit=1', {}, keyToken)).status).toBe(200);
    expect((await api('/api/v1/keys', {}, keyToken)).status).toBe(403);
    const key = ok(await admin.GET('/api/v1/keys', { params: { query: { limit: 200 } } })).data.find((k) => k.name === keyName)!;
    created.keyId = key.id;
    expect(JSON.stringify(key)).not.toContain(keyToken);
    // Leave and come back: the token is not shown again.
    await nav.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    await nav.getByRole('link', { name: 'API keys' }).click();
    await keyRow.waitFor();
    expect(await page.getByTestId('secret-once').count()).toBe(0);
    await page.reload();
    await keyRow.waitFor();
    expect(await page.content()).not.toContain(keyToken);
    await keyRow.getByRole('button', { name: 'Revoke' }).click();
    await keyRow.getByText('Revoked').waitFor();
    expect((await api('/api/v1/parties?limit=1', {}, keyToken)).status).toBe(401);
    await expectAccessible(page);
    await page.context().close();
  });

  it('shows the audit entries of those actions, as the API has them', async () => {
    const page = await adminPage();
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const expected: Array<[string, string]> = [
      // A merge is audited on the party merged away.
      ['party.merged', loserId],
      ['webhook.created', created.webhookId!],
      ['webhook.deleted', created.webhookId!],
      ['access.key.created', created.keyId!],
      ['access.key.revoked', created.keyId!],
    ];
    const filter = page.getByRole('textbox', { name: 'Action' });
    for (const [action, recordId] of expected) {
      const fromApi = ok(await admin.GET('/api/v1/audit', { params: { query: { action, limit: 50 } } })).data;
      expect(
        fromApi.map((e) => e.recordId),
        action,
      ).toContain(recordId);
      await filter.fill(action);
      const rows = page.getByRole('table').getByRole('row');
      // The page lists what the API lists for the same filter, the record among them.
      await expect
        .poll(
          async () => {
            const texts = (await rows.allInnerTexts()).slice(1);
            return texts.length === fromApi.length && texts.every((t) => t.includes(action)) && texts.some((t) => t.includes(recordId));
          },
          { timeout: UI_TIMEOUT },
        )
        .toBe(true);
    }
    await screenshot(page, server, 'audit-filtered');
    await page.context().close();
  });

  it('scrolls a timeline of 100 000 interactions by keyset pages, keeping the document small', async () => {
    const page = await adminPage();
    const requests: URL[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === `/api/v1/parties/${bulkId}/timeline`) requests.push(url);
    });
    await page.goto(`${server.url}/console/parties/${bulkId}`);
    await page.getByRole('heading', { name: `Busy Wharf ${MARK}` }).waitFor();
    const timeline = page.getByTestId('timeline');
    await timeline.getByTestId('timeline-item').first().waitFor();
    const shown = async () => (await timeline.getByTestId('timeline-item').allInnerTexts()).map((text) => Number(text.match(/Bulk (\d+)/)?.[1] ?? NaN));
    expect((await shown())[0]).toBe(1);
    const loaded = async () => Number((await page.getByText(/[\d\s,]+ interactions loaded/).innerText()).replace(/\D/g, ''));

    let oldest = Math.max(...(await shown()));
    const PAGES = 6;
    for (let target = 100; target <= PAGES * 50; target += 50) {
      await expect
        .poll(
          async () => {
            await timeline.evaluate((el: any) => el.scrollTo(0, el.scrollHeight));
            return loaded();
          },
          { timeout: UI_TIMEOUT },
        )
        .toBeGreaterThanOrEqual(target);
      // Older items appear as it scrolls, in order, with none missing in view.
      await expect.poll(async () => Math.max(...(await shown())), { timeout: UI_TIMEOUT }).toBeGreaterThan(oldest);
      const numbers = await shown();
      oldest = Math.max(...numbers);
      expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1] + 1)).toBe(true);
      // Virtualised: the document holds the rows in view, not the thousands loaded.
      expect(numbers.length).toBeLessThan(40);
    }
    expect(oldest).toBeGreaterThan((PAGES - 1) * 50);
    expect(await page.getByText(/[\d\s,]+ interactions loaded/).innerText()).not.toMatch(/100[\s,.]?000/);

    // Each page is one keyset request: the first without a cursor, every later one with the
    // cursor the previous page gave, never an offset, 50 at a time.
    expect(requests.length).toBeGreaterThanOrEqual(PAGES);
    expect(requests[0].searchParams.get('cursor')).toBeNull();
    const cursors = requests.slice(1).map((r) => r.searchParams.get('cursor'));
    expect(cursors.every((c) => typeof c === 'string' && c.length > 0)).toBe(true);
    expect(new Set(cursors).size).toBe(cursors.length);
    for (const r of requests) {
      expect(r.searchParams.get('limit')).toBe('50');
      expect(r.searchParams.has('offset')).toBe(false);
    }
    // The cursors are the API's own: following them page by page gives the rows the page shows.
    let cursor: string | undefined;
    for (let i = 1; i < requests.length; i++) {
      const apiPage = ok(await admin.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: bulkId }, query: { cursor, limit: 50 } } }));
      expect(apiPage.nextCursor).toBe(cursors[i - 1]);
      cursor = apiPage.nextCursor!;
    }
    await screenshot(page, server, 'timeline-100k');
    await page.context().close();
  });

  const PAGES: Array<{ path: () => string; heading: () => string; headingUk: () => string; action?: string; ready: (page: Page) => Promise<void> }> = [
    { path: () => '', heading: () => 'Home', headingUk: () => 'Головна', ready: async () => {} },
    { path: () => 'parties', heading: () => 'Parties', headingUk: () => 'Сторони', action: 'Search', ready: async (page) => page.getByRole('table').waitFor() },
    {
      path: () => `parties/${bulkId}`,
      heading: () => `Busy Wharf ${MARK}`,
      headingUk: () => `Busy Wharf ${MARK}`,
      ready: async (page) => page.getByTestId('timeline-item').first().waitFor(),
    },
    { path: () => 'duplicates', heading: () => 'Duplicates', headingUk: () => 'Дублікати', action: 'Party to keep', ready: async () => {} },
    { path: () => 'import', heading: () => 'Import', headingUk: () => 'Імпорт', action: 'Importer', ready: async (page) => page.locator('input[type=file]').waitFor({ state: 'attached' }) },
    { path: () => 'webhooks', heading: () => 'Webhooks', headingUk: () => 'Вебхуки', action: 'Receiver URL', ready: async () => {} },
    { path: () => 'keys', heading: () => 'API keys', headingUk: () => 'Ключі доступу', action: 'Name', ready: async (page) => page.getByRole('table').waitFor() },
    { path: () => 'audit', heading: () => 'Audit log', headingUk: () => 'Журнал аудиту', action: 'Action', ready: async (page) => page.getByRole('table').waitFor() },
  ];
  const slug = (path: string) => (path.split('/')[0] || 'home').replace(/[^a-z]/g, '');

  it('passes axe on every kernel page and reaches its main action by keyboard', async () => {
    const page = await adminPage();
    for (const entry of PAGES) {
      await page.goto(`${server.url}/console/${entry.path()}`);
      await page.getByRole('heading', { name: entry.heading(), level: 1 }).waitFor();
      await entry.ready(page);
      expect(await axeViolations(page), entry.path()).toEqual([]);
      await screenshot(page, server, `page-${slug(entry.path())}`);
      if (!entry.action) continue;
      // From the top of the document, Tab alone reaches the page's main field or button.
      await page.locator('body').focus();
      let reached = false;
      for (let i = 0; i < 60 && !reached; i++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate((name) => {
          const el = (globalThis as any).document.activeElement;
          const labels = [...(el?.labels ?? [])].map((l: any) => l.textContent as string);
          return labels.some((l) => l.replace('*', '').trim() === name) || el?.getAttribute('aria-label') === name || el?.textContent?.trim() === name;
        }, entry.action);
      }
      expect(reached, `${entry.action} on /${entry.path()}`).toBe(true);
    }
    await page.context().close();
  });

  it('shows every kernel page at 360 px without anything wider than the screen', async () => {
    const page = await adminPage({ width: 360 });
    for (const entry of PAGES) {
      await page.goto(`${server.url}/console/${entry.path()}`);
      await page.getByRole('heading', { name: entry.heading(), level: 1 }).waitFor();
      await entry.ready(page);
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number), entry.path()).toBeLessThanOrEqual(360);
      await screenshot(page, server, `page-${slug(entry.path())}-360px`);
    }
    await page.context().close();
  });

  it('shows no English word on any kernel page in Ukrainian', async () => {
    const page = await adminPage({ language: 'uk' });
    for (const entry of PAGES) {
      await page.goto(`${server.url}/console/${entry.path()}`);
      await page.getByRole('heading', { name: entry.headingUk(), level: 1 }).waitFor();
      await entry.ready(page);
      expect(await untranslatedWords(page), entry.path()).toEqual([]);
      expect(await axeViolations(page), entry.path()).toEqual([]);
      await screenshot(page, server, `page-${slug(entry.path())}-uk`);
    }
    await page.context().close();
  });
});
