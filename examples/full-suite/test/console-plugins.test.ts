import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { login, ok, type RapportClient } from '@rapport/client';
import { en as crmEn } from '../../../plugins/crm/console/messages.js';
import { en as hrmEn } from '../../../plugins/hrm/console/messages.js';
import { en as prmEn } from '../../../plugins/prm/console/messages.js';
import { axeViolations, launchBrowser, openPage, persona, screenshot, startConsoleServer, untranslatedWords, type ConsoleServer } from './console/harness.js';
import type { DemoUser } from '../src/seed/users.js';

/*
 * The plugins' console pages in a real browser, as their users work with them, on the demo
 * data of a real server (PGlite or PostgreSQL): a sales rep drags a deal across the board, a
 * partner's user registers a deal that conflicts with another partner's, an employee answers
 * a survey that its manager sees only once enough answered, a supplier reads its scorecard.
 * Every page is checked with axe, and again in Ukrainian for any English left on it.
 */
describe('console: the CRM, PRM and HRM pages', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let admin: RapportClient;
  const stamp = Date.now().toString(36);

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    admin = (await login({ baseUrl: server.url, email: persona('admin').email, password: persona('admin').password })).client;
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(user: DemoUser, path: string, language: 'en' | 'uk' = 'en', width?: number): Promise<Page> {
    return openPage(browser, server, user, path, { language, width });
  }

  const partyId = async (query: { email: string } | { domain: string }) => ok(await admin.GET('/api/v1/parties', { params: { query } })).data[0].id;

  it('a rep drags a deal to the next stage, the deal page shows the move, and a conflicting move is shown and can be made again', async () => {
    const rep = persona('sales-rep');
    const pipeline = ok(await admin.GET('/api/v1/crm/pipelines')).data[0];
    const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;
    const title = `Sorting line ${stamp}`;
    const deal = ok(
      await admin.POST('/api/v1/crm/deals', {
        body: {
          title,
          accountId: await partyId({ domain: 'acme-foods.example' }),
          amount: 42_000,
          currency: 'EUR',
          pipelineId: pipeline.id,
          stageId: stage('Qualify'),
          ownerPartyId: await partyId({ email: rep.email }),
        },
      }),
    );

    const page = await open(rep, 'crm/pipeline');
    const card = page.getByTestId(`deal-${title}`);
    const handle = card.getByRole('button', { name: `Drag to another stage: ${title}` });
    const target = page.getByTestId('stage-Propose');
    await handle.waitFor();
    const from = (await handle.boundingBox())!;
    const to = (await target.boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    // Small steps: the pointer sensor starts a drag only after the pointer moved a few pixels.
    for (let i = 1; i <= 12; i++) await page.mouse.move(from.x + ((to.x + to.width / 2 - from.x) * i) / 12, from.y + ((to.y + 80 - from.y) * i) / 12);
    await page.mouse.up();
    await target.getByTestId(`deal-${title}`).waitFor();
    await expect.poll(async () => ok(await admin.GET('/api/v1/crm/deals/{id}', { params: { path: { id: deal.id } } })).stageId, { timeout: 60_000 }).toBe(stage('Propose'));
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'crm-pipeline');

    await card.getByRole('link').click();
    const history = page.getByTestId('stage-history');
    await history.getByRole('row').nth(2).waitFor();
    const rows = await history.getByRole('row').allInnerTexts();
    expect(rows.slice(1).map((row) => row.split('\t').slice(1).join(' → '))).toEqual(['(opened) → Qualify', 'Qualify → Propose']);
    expect(await page.getByTestId('deal-stage').innerText()).toBe('Propose');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'crm-deal');

    // Someone else changes the deal after the board was read: the move is refused (412), shown, and offered again.
    await page.goto(`${server.url}/console/crm/pipeline`);
    await card.waitFor();
    const fresh = ok(await admin.GET('/api/v1/crm/deals/{id}', { params: { path: { id: deal.id } } }));
    ok(await admin.PATCH('/api/v1/crm/deals/{id}', { params: { path: { id: deal.id }, header: { 'If-Match': `"${fresh.version}"` } }, body: { amount: 43_000 } }));
    await card.getByRole('combobox', { name: `Move to stage: ${title}` }).click();
    await page.getByRole('option', { name: 'Negotiate' }).click();
    const conflict = page.getByTestId('move-conflict');
    await conflict.waitFor();
    expect(ok(await admin.GET('/api/v1/crm/deals/{id}', { params: { path: { id: deal.id } } })).stageId).toBe(stage('Propose'));
    // The board was read again: the card shows the other change.
    await card.getByText('€43,000.00').waitFor();
    await conflict.getByRole('button', { name: 'Move it again' }).click();
    await page.getByTestId('stage-Negotiate').getByTestId(`deal-${title}`).waitFor();
    await expect.poll(async () => ok(await admin.GET('/api/v1/crm/deals/{id}', { params: { path: { id: deal.id } } })).stageId, { timeout: 60_000 }).toBe(stage('Negotiate'));
    await page.context().close();
  }, 600_000);

  it("a partner's user registers a deal and sees the conflict, without learning the other partner", async () => {
    const nordic = await partyId({ domain: 'nordic-industrial.example' });
    const partnership = ok(await admin.GET('/api/v1/relationships', { params: { query: { type: 'prm.partner', partyId: nordic } } })).data[0];
    ok(
      await admin.PATCH('/api/v1/relationships/{id}', {
        params: { path: { id: partnership.id }, header: { 'If-Match': `"${partnership.version}"` } },
        body: { status: 'active', attributes: { ...partnership.attributes, program: 'Northwind Partner Program', tier: 'silver' } },
      }),
    );
    const customer = `Contoso Packaging ${stamp}`;
    const domain = `contoso-${stamp}.example`;
    const theirs = ok(
      await admin.POST('/api/v1/prm/registrations', { body: { partnerId: nordic, customerName: customer, customerDomain: domain, value: 10_000, currency: 'EUR', expectedCloseDate: '2027-06-30' } }),
    );

    const page = await open(persona('partner'), 'prm/portal');
    await page.getByTestId('current-tier').waitFor();
    expect(await page.getByTestId('current-tier').innerText()).toBe('SILVER');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'prm-portal');

    await page.getByRole('tab', { name: 'Deal registrations' }).click();
    await page.getByLabel(/^Customer\s*\*?$/).fill(customer);
    await page.getByLabel('Customer web domain').fill(domain);
    await page.getByLabel(/^Value/).fill('25000');
    await page.getByLabel(/^Expected close/).fill('2027-05-31');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const outcome = page.getByTestId('registration-outcome');
    await outcome.waitFor();
    expect(await outcome.innerText()).toContain('Another registration of this customer is already protected or waiting for a decision.');
    await page.getByRole('row', { name: new RegExp(customer) }).waitFor();
    const shown = await page.locator('body').innerText();
    expect(shown).not.toContain('Nordic');
    expect(shown).not.toContain(theirs.id);
    expect(shown).not.toContain(nordic);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'prm-registration');
    await page.context().close();
  }, 600_000);

  it('an employee answers a survey; its manager sees "not enough answers" until enough reports answered', async () => {
    const survey = async (title: string) => {
      const created = ok(
        await admin.POST('/api/v1/hrm/surveys', {
          body: { title, kind: 'pulse', minGroupSize: 3, questions: [{ id: 'recommend', type: 'enps', text: 'Would you recommend Northwind as an employer?' }] },
        }),
      );
      ok(await admin.POST('/api/v1/hrm/surveys/{id}/open', { params: { path: { id: created.id } } }));
      return created;
    };
    const first = await survey(`Pulse A ${stamp}`);
    const employee = await open(persona('employee'), 'hrm/me');
    const form = employee.getByRole('region', { name: first.title });
    await form.getByRole('radio', { name: '9', exact: true }).check();
    await form.getByRole('button', { name: 'Send my answers' }).click();
    await form.getByTestId('survey-done').waitFor();
    expect(ok(await admin.GET('/api/v1/hrm/surveys/{id}/participation', { params: { path: { id: first.id } } })).participants).toBe(1);
    expect(await axeViolations(employee)).toEqual([]);
    await screenshot(employee, server, 'hrm-survey');
    await employee.context().close();
    ok(await admin.POST('/api/v1/hrm/surveys/{id}/close', { params: { path: { id: first.id } } }));

    const manager = persona('manager');
    const team = await open(manager, 'hrm/team');
    const row = team.getByTestId('enps-trend').getByRole('row', { name: new RegExp(first.title) });
    await row.getByTestId('enps-suppressed').waitFor();
    expect(await row.getByTestId('enps-suppressed').innerText()).toMatch(/not enough answers/i);
    await team.context().close();

    // Two more reports: three answers reach the threshold of the next survey.
    const tom = ok(await admin.GET('/api/v1/hrm/employees/{id}', { params: { path: { id: await partyId({ email: persona('employee').email }) } } }));
    const maria = await partyId({ email: manager.email });
    const answerers: Array<{ email: string; password: string }> = [{ email: persona('employee').email, password: persona('employee').password }];
    for (const n of [1, 2]) {
      const email = `report${n}.${stamp}@northwind.example`;
      const hired = ok(
        await admin.POST('/api/v1/hrm/employees', {
          body: {
            person: { name: `Report ${n}`, contactPoints: [{ kind: 'email', value: email }] },
            unitId: tom.employment!.unitId,
            start: new Date(Date.now() - 86_400_000).toISOString(),
            managerId: maria,
          },
        }),
      );
      ok(await admin.POST('/api/v1/users', { body: { email, name: `Report ${n}`, password: 'northwind-report', roles: ['employee'], partyId: hired.id, scoped: true } }));
      answerers.push({ email, password: 'northwind-report' });
    }
    const second = await survey(`Pulse B ${stamp}`);
    for (const [i, who] of answerers.entries()) {
      const session = await login({ baseUrl: server.url, ...who });
      ok(await session.client.POST('/api/v1/hrm/surveys/{id}/responses', { params: { path: { id: second.id } }, body: { answers: { recommend: [10, 9, 3][i] } } }));
    }
    ok(await admin.POST('/api/v1/hrm/surveys/{id}/close', { params: { path: { id: second.id } } }));
    const trend = ok(await admin.GET('/api/v1/hrm/engagement/managers/{id}', { params: { path: { id: maria } } })).data.find((p) => p.surveyId === second.id)!;
    expect(trend.suppressed).toBe(false);

    const again = await open(manager, 'hrm/team');
    const shown = again.getByTestId('enps-trend').getByRole('row', { name: new RegExp(second.title) });
    await shown.getByTestId('enps-value').waitFor();
    expect(await shown.getByTestId('enps-value').innerText()).toBe(new Intl.NumberFormat('en-GB').format(trend.enps!));
    await again
      .getByTestId('enps-trend')
      .getByRole('row', { name: new RegExp(first.title) })
      .getByTestId('enps-suppressed')
      .waitFor();
    expect(await axeViolations(again)).toEqual([]);
    await screenshot(again, server, 'hrm-team');
    await again.context().close();
  }, 600_000);

  it('the supplier scorecard chart shows the figures the API returns', async () => {
    const supplier = persona('supplier');
    const session = await login({ baseUrl: server.url, email: supplier.email, password: supplier.password });
    const steel = await partyId({ domain: 'steelworks.example' });
    const card = ok(await session.client.GET('/api/v1/prm/suppliers/{supplierId}/scorecard', { params: { path: { supplierId: steel } } }));
    const expected = [card.onTimeDelivery, card.quality, card.rfqResponsiveness, card.score]
      .filter((v): v is number => v !== null)
      .map((v) => new Intl.NumberFormat('en-GB').format(Math.round(v * 10) / 10));
    expect(expected.length).toBeGreaterThan(0);

    const page = await open(supplier, 'prm/supply');
    const chart = page.getByTestId('supplier-scorecard-chart');
    await chart.locator('.recharts-label-list text, .recharts-label').first().waitFor();
    expect(await chart.locator('.recharts-label-list text, .recharts-label').allTextContents()).toEqual(expected);
    expect(await page.getByTestId('supplier-standing').innerText()).toBe(card.standing.toUpperCase());
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'prm-supplier-scorecard');
    await page.context().close();
  }, 600_000);

  it('shows no English on the tested pages in Ukrainian, and every page fits 360 px', async () => {
    // Every English message of the three plugins: none may appear on a Ukrainian page.
    const english = [...Object.values(crmEn), ...Object.values(prmEn), ...Object.values(hrmEn)]
      .flatMap((message) => message.split(/\{\{[^}]+\}\}/))
      .map((part) => part.trim())
      .filter((part) => /[A-Za-z]{4,}/.test(part));
    const pages: Array<[DemoUser, string, number?]> = [
      [persona('sales-rep'), 'crm/pipeline'],
      [persona('partner'), 'prm/portal'],
      [persona('partner'), 'prm/portal', 1],
      [persona('employee'), 'hrm/me'],
      [persona('manager'), 'hrm/team'],
      [persona('supplier'), 'prm/supply'],
    ];
    for (const [user, path, tab] of pages) {
      const page = await open(user, path, 'uk', 360);
      if (tab !== undefined) await page.getByRole('tab').nth(tab).click();
      // Wait for the page's data, then read what it shows.
      await page.waitForLoadState('networkidle');
      await page.locator('main [aria-label], main table, main form, main section').first().waitFor();
      const where = `${path}${tab ? `#${tab}` : ''}`;
      expect(await untranslatedWords(page), where).toEqual([]);
      // What the page says itself: the records' own text (translate="no") left out.
      // (The callbacks run in the browser; this file is type-checked without the DOM library.)
      const text: string = await page.locator('main').evaluate((main: any) => {
        const copy = main.cloneNode(true);
        for (const data of copy.querySelectorAll('[translate="no"]')) data.remove();
        return copy.textContent ?? '';
      });
      expect(
        english.filter((part) => text.includes(part)),
        where,
      ).toEqual([]);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth'), `${where} at 360 px`).toBeLessThanOrEqual(360);
      expect(await axeViolations(page), where).toEqual([]);
      await screenshot(page, server, `uk-${where.replace(/\W+/g, '-')}`);
      await page.context().close();
    }
  }, 900_000);
});
