import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { login, ok, type RapportClient } from '@rapport/client';
import { axeViolations, launchBrowser, newContext, openPage, persona, screenshot, signIn, startConsoleServer, untranslatedWords, UI_TIMEOUT, type ConsoleServer } from './console/harness.js';

/*
 * The console's kernel pages in Chromium against `rapport serve` of the full suite with its
 * demo data, on the database of this test project: signing in, searching parties as one
 * types, a party's page with its roles from both sides, indicators and a timeline that
 * loads more as it scrolls; the Ukrainian UI without an English word; axe on every page.
 */
const TIMELINE_SIZE = 75;

describe('console: kernel pages', { timeout: 300_000 }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let admin: RapportClient;
  let acmeId: string;
  let alphaId: string;

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    const session = await login({ baseUrl: server.url, email: persona('admin').email, password: persona('admin').password });
    admin = session.client;
    acmeId = ok(await admin.GET('/api/v1/parties', { params: { query: { domain: 'acme-foods.example' } } })).data[0].id;
    alphaId = ok(await admin.GET('/api/v1/parties', { params: { query: { domain: 'alpha-resellers.example' } } })).data[0].id;
    // More interactions than one page of the timeline, so scrolling must fetch the next page.
    for (let i = 0; i < TIMELINE_SIZE; i++) {
      ok(
        await admin.POST('/api/v1/interactions', {
          body: {
            type: 'note',
            subject: `Console timeline note ${i + 1}`,
            direction: 'internal',
            participants: [{ partyId: acmeId, role: 'subject' }],
            occurredAt: new Date(Date.now() - (i + 30) * 3_600_000).toISOString(),
          },
        }),
      );
    }
    for (const [days, value] of [
      [30, 42],
      [20, 55],
      [10, 61],
    ] as const) {
      ok(await admin.POST('/api/v1/observations', { body: { indicator: 'crm.lead-score', subjectId: acmeId, value, observedAt: new Date(Date.now() - days * 86_400_000).toISOString() } }));
    }
    const partnership = ok(await admin.GET('/api/v1/parties/{id}/relationships', { params: { path: { id: alphaId }, query: { type: 'prm.partner' } } })).data[0];
    for (const label of ['good', 'excellent', 'good']) {
      ok(await admin.POST('/api/v1/observations', { body: { indicator: 'prm.partner-rating', subjectId: partnership.id, label } }));
    }
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function expectAccessible(page: Page) {
    expect(await axeViolations(page)).toEqual([]);
  }

  it('signs in with the password from the sign-in page, by keyboard alone, and refuses a wrong one', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expectAccessible(page);
    await screenshot(page, server, 'sign-in');

    const rep = persona('sales-rep');
    await page.locator('input[type=email]').fill(rep.email);
    await page.locator('input[type=password]').fill('not the password at all');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'The e-mail or the password is wrong.' }).waitFor();

    // Keyboard only: focus the e-mail field, then Tab to the password and Enter to submit.
    await page.locator('input[type=email]').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(rep.email);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(rep.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await expect.poll(() => page.getByText(`Welcome, ${rep.name}.`).count(), { timeout: UI_TIMEOUT }).toBe(1);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'rapport_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Lax');
    await context.close();
  });

  it('builds the navigation from the permissions: the rep sees parties but no settings, the admin every kernel page', async () => {
    const page = await openPage(browser, server, persona('sales-rep'), '');
    const nav = page.getByRole('navigation', { name: 'Navigation' });
    await nav.getByRole('link', { name: 'Parties' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'API keys' }).count()).toBe(0);
    await page.context().close();

    const adminPage = await openPage(browser, server, persona('admin'), '');
    const adminContext = adminPage.context();
    const adminNav = adminPage.getByRole('navigation', { name: 'Navigation' });
    for (const name of ['Parties', 'Duplicates', 'Import', 'Webhooks', 'API keys', 'Audit log']) await adminNav.getByRole('link', { name }).waitFor();
    await adminNav.getByRole('link', { name: 'Audit log' }).click();
    await adminPage.getByRole('heading', { name: 'Audit log' }).waitFor();
    await adminPage.getByRole('table').waitFor();
    await expectAccessible(adminPage);
    await screenshot(adminPage, server, 'audit');
    await adminContext.close();
  });

  it('searches parties as one types', async () => {
    const page = await openPage(browser, server, persona('sales-rep'), '');
    const context = page.context();
    await page.getByRole('link', { name: 'Parties' }).click();
    await page.getByRole('heading', { name: 'Parties' }).waitFor();
    await page.getByRole('table').waitFor();
    await page.getByLabel('Search').pressSequentially('Acme', { delay: 50 });
    const rows = page.getByRole('table').getByRole('row');
    // GET /parties `q` is a name substring or a search match (words, typos, contact points), so
    // Acme's contact person is found by her e-mail at acme-foods.example too: every row names
    // Acme, in its name or its contact point, and the narrowing has happened once the rows do.
    await expect
      .poll(
        async () => {
          const texts = (await rows.allInnerTexts()).slice(1);
          return texts.length > 0 && texts.every((text) => /acme/i.test(text));
        },
        { timeout: UI_TIMEOUT },
      )
      .toBe(true);
    await page.getByRole('link', { name: 'Acme Foods' }).waitFor();
    await page.getByRole('link', { name: 'Ann Ortiz' }).waitFor();
    await expectAccessible(page);
    await screenshot(page, server, 'parties-search');
    await context.close();
  });

  it("shows a party's contact points, its roles from both sides, indicators and a timeline that loads as it scrolls", async () => {
    const page = await openPage(browser, server, persona('sales-rep'), `parties/${acmeId}`);
    const context = page.context();
    await page.getByRole('heading', { name: 'Acme Foods' }).waitFor();
    await page.getByText('acme-foods.example').first().waitFor();
    const roles = page.getByTestId('party-roles');
    await roles.getByText('our customer').waitFor();
    await roles.getByText('we are its supplier').waitFor();
    await page.getByRole('heading', { name: 'Relationships' }).waitFor();

    // The lead score's chart: one point per observation.
    const chart = page.locator('[data-indicator="crm.lead-score"]');
    await chart.waitFor();
    await expect.poll(() => chart.locator('.recharts-line-dots circle, .recharts-line-dot').count(), { timeout: UI_TIMEOUT }).toBe(3);

    const timeline = page.getByTestId('timeline');
    await timeline.getByTestId('timeline-item').first().waitFor();
    await expect.poll(() => page.getByText(/50 interactions loaded/).count(), { timeout: UI_TIMEOUT }).toBe(1);
    // Virtualised: far fewer rows in the document than loaded.
    expect(await timeline.getByTestId('timeline-item').count()).toBeLessThan(30);
    await expectAccessible(page);
    await screenshot(page, server, 'party');
    // Scrolling to the end fetches the next keyset page.
    await expect
      .poll(
        async () => {
          await timeline.evaluate((el: any) => el.scrollTo(0, el.scrollHeight));
          return Number((await page.getByText(/\d+ interactions loaded/).innerText()).match(/\d+/)![0]);
        },
        { timeout: UI_TIMEOUT },
      )
      .toBeGreaterThan(TIMELINE_SIZE);
    await context.close();
  });

  it('puts quantitative and qualitative indicators side by side', async () => {
    const page = await openPage(browser, server, persona('admin'), `parties/${alphaId}`);
    const context = page.context();
    await page.getByRole('heading', { name: 'Alpha Machinery Resellers' }).waitFor();
    const rating = page.locator('[data-indicator="prm.partner-rating"]');
    await rating.waitFor();
    await rating.getByText('good').first().waitFor();
    await page.getByTestId('party-roles').getByText('our partner').waitFor();
    await expectAccessible(page);
    await context.close();
  });

  it('is usable at 360 px: nothing wider than the screen, the navigation behind a button', async () => {
    const context = await newContext(browser, { width: 360 });
    const page = await context.newPage();
    await page.goto(`${server.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(360);
    await signIn(page, server, persona('sales-rep'));
    await page.goto(`${server.url}/console/parties/${acmeId}`);
    await page.getByRole('heading', { name: 'Acme Foods' }).waitFor();
    await page.getByTestId('timeline-item').first().waitFor();
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(360);
    await page.getByRole('button', { name: 'Show or hide the navigation' }).click();
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'Parties' }).click();
    await page.getByRole('heading', { name: 'Parties' }).waitFor();
    await screenshot(page, server, 'party-360px');
    await context.close();
  });

  it('speaks Ukrainian throughout once chosen, and remembers the choice', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${server.url}/console/`);
    await page.getByText('Українська', { exact: true }).click();
    await page.getByRole('heading', { name: 'Вхід' }).waitFor();
    expect(await untranslatedWords(page)).toEqual([]);
    await screenshot(page, server, 'sign-in-uk');
    const rep = persona('sales-rep');
    await page.locator('input[type=email]').fill(rep.email);
    await page.locator('input[type=password]').fill(rep.password);
    await page.getByRole('button', { name: 'Увійти' }).click();
    await page.getByRole('heading', { name: 'Головна' }).waitFor();
    expect(await untranslatedWords(page)).toEqual([]);

    await page.getByRole('link', { name: 'Сторони' }).click();
    await page.getByRole('heading', { name: 'Сторони' }).waitFor();
    await page.getByRole('table').waitFor();
    expect(await untranslatedWords(page)).toEqual([]);
    await expectAccessible(page);

    await page.reload();
    await page.getByRole('heading', { name: 'Сторони' }).waitFor();
    await page.goto(`${server.url}/console/parties/${acmeId}`);
    await page.getByTestId('party-roles').getByText('для нас: клієнт').waitFor();
    await page.getByTestId('timeline-item').first().waitFor();
    await page.locator('[data-indicator="crm.lead-score"]').waitFor();
    expect(await untranslatedWords(page)).toEqual([]);
    await expectAccessible(page);
    await screenshot(page, server, 'party-uk');
    await context.close();
  });
});
