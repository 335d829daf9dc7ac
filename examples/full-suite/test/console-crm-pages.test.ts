import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { login, ok, type RapportClient } from '@rapport/client';
import { axeViolations, launchBrowser, openPage, pageChecks, persona, screenshot, startConsoleServer, type ConsoleServer } from './console/harness.js';
import type { DemoUser } from '../src/seed/users.js';

/*
 * The CRM's console pages the board test does not cover — tasks with the overdue ones, the
 * sales reports' charts, saved views of the deal list, the buyer side — as the demo's sales
 * rep works with them, on a real server's demo data. Every figure on screen is checked
 * against what the API answers the same user; each page passes axe and fits 360 px.
 */
describe('console: the CRM pages of the sales rep', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let rep: RapportClient;
  const stamp = Date.now().toString(36);
  const money = (amount: number, currency: string) => new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount);
  const number = (n: number) => new Intl.NumberFormat('en-GB').format(n);
  const dateTime = (d: string) => new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(d));

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    const user = persona('sales-rep');
    rep = (await login({ baseUrl: server.url, email: user.email, password: user.password })).client;
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(path: string, user: DemoUser = persona('sales-rep')): Promise<Page> {
    return openPage(browser, server, user, path);
  }

  /** A task of the rep's on one of its accounts, due tomorrow. */
  async function newTask(title: string) {
    const account = ok(await rep.GET('/api/v1/crm/customers', { params: { query: { limit: 1 } } })).data[0].party.id;
    const me = ok(await rep.GET('/api/v1/auth/me'));
    return ok(await rep.POST('/api/v1/crm/tasks', { body: { title, dueAt: new Date(Date.now() + 86_400_000).toISOString(), accountId: account, assigneePartyId: me.partyId } }));
  }

  /**
   * Holds the page's next request completing a task until `release()`, so the test sees the page
   * before the server has answered (the request then goes on to the real server, unchanged).
   */
  async function holdCompletion(page: Page): Promise<{ request: Promise<void>; release: () => void }> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const request = new Promise<void>((resolve) => (arrived = resolve));
    await page.route('**/api/v1/crm/tasks/*', async (route) => {
      if (route.request().method() !== 'PATCH') return route.fallback();
      arrived();
      await released;
      await route.continue();
    });
    return { request, release };
  }

  const checks = (page: Page, name: string) => pageChecks(page, server, name);

  it("shows the rep's open tasks, and the overdue ones marked, as the API lists them; ticking one completes it", async () => {
    const openTasks = ok(await rep.GET('/api/v1/crm/tasks', { params: { query: { done: 'false', limit: 200 } } })).data;
    const overdue = ok(await rep.GET('/api/v1/crm/tasks/overdue', { params: { query: { limit: 200 } } })).data;
    // The demo gives the rep an overdue task: the page has something to show.
    expect(overdue.map((task) => task.title)).toContain('Call Initech back about the conveyor pilot');

    const page = await open('crm/tasks');
    await page.getByRole('tab', { name: `Open (${openTasks.length})` }).waitFor();
    const openRows = page.getByRole('tabpanel').getByRole('row');
    await openRows.nth(1).waitFor();
    expect((await openRows.allInnerTexts()).slice(1).map((row) => row.split('\t')[1].trim())).toEqual(openTasks.map((task) => task.title));
    // The overdue badge is on exactly the overdue ones.
    for (const task of openTasks) {
      const row = page.getByRole('tabpanel').getByRole('row', { name: new RegExp(task.title) });
      expect(await row.getByText('overdue', { exact: true }).count(), task.title).toBe(overdue.some((o) => o.id === task.id) ? 1 : 0);
    }
    await page.getByRole('tab', { name: `Overdue (${overdue.length})` }).click();
    const overdueRows = page.getByRole('tabpanel').getByRole('row');
    await overdueRows.nth(1).waitFor();
    expect((await overdueRows.allInnerTexts()).slice(1).map((row) => row.split('\t')[1].trim())).toEqual(overdue.map((task) => task.title));
    await checks(page, 'crm-tasks');

    // A new task of the rep's, ticked on the page: shown done while the server has not answered yet, then done in the API and off the open list.
    const task = await newTask(`Book the site visit ${stamp}`);
    await page.reload();
    const held = await holdCompletion(page);
    const box = page.getByRole('checkbox', { name: `Mark as done: ${task.title}` });
    await box.click();
    await held.request;
    await expect.poll(() => box.isChecked(), { timeout: 60_000 }).toBe(true);
    expect(ok(await rep.GET('/api/v1/crm/tasks/{id}', { params: { path: { id: task.id } } })).done).toBe(false);
    held.release();
    await expect.poll(async () => ok(await rep.GET('/api/v1/crm/tasks/{id}', { params: { path: { id: task.id } } })).done, { timeout: 60_000 }).toBe(true);
    await page.getByRole('tab', { name: `Open (${openTasks.length})` }).waitFor();
    expect(await box.count()).toBe(0);
    expect(await page.getByTestId('failure').count()).toBe(0);
    await page.context().close();
  }, 600_000);

  it('puts a ticked task back, with the reason, when the server refuses to complete it', async () => {
    const task = await newTask(`Send the revised quote ${stamp}`);
    const page = await open('crm/tasks');
    const box = page.getByRole('checkbox', { name: `Mark as done: ${task.title}` });
    await box.waitFor();
    // Changed elsewhere after the page read it: the page's If-Match names a version that is gone.
    const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const changed = ok(await rep.PATCH('/api/v1/crm/tasks/{id}', { params: { path: { id: task.id }, header: { 'If-Match': `"${task.version}"` } }, body: { dueAt: later } }));
    const refusal = await rep.PATCH('/api/v1/crm/tasks/{id}', { params: { path: { id: task.id }, header: { 'If-Match': `"${task.version}"` } }, body: { done: true } });
    expect(refusal.response.status).toBe(412);
    const problem = refusal.error as { title: string; detail?: string };

    const held = await holdCompletion(page);
    await box.click();
    await held.request;
    await expect.poll(() => box.isChecked(), { timeout: 60_000 }).toBe(true);
    held.release();
    const failure = page.getByTestId('failure');
    await failure.getByText('Someone changed this record meanwhile. Try again on its current version.').waitFor();
    expect(await failure.getByTestId('failure-problem').innerText()).toBe([problem.title, problem.detail !== problem.title ? problem.detail : undefined].filter(Boolean).join(' — '));
    // Back as the server has it: not done, the due date changed meanwhile, and the box can be ticked again.
    await expect.poll(() => box.isChecked(), { timeout: 60_000 }).toBe(false);
    await page
      .getByRole('row', { name: new RegExp(task.title) })
      .getByText(dateTime(changed.dueAt))
      .waitFor();
    expect(await box.isEnabled()).toBe(true);
    expect(ok(await rep.GET('/api/v1/crm/tasks/{id}', { params: { path: { id: task.id } } }))).toMatchObject({ done: false, version: changed.version });
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'crm-tasks-refused');

    // Ticked again, on the version now shown: taken.
    await box.click();
    await expect.poll(async () => ok(await rep.GET('/api/v1/crm/tasks/{id}', { params: { path: { id: task.id } } })).done, { timeout: 60_000 }).toBe(true);
    await page.getByTestId('failure').waitFor({ state: 'detached' });
    await page.context().close();
  }, 600_000);

  it('draws the pipeline, conversion, win rate and weighted forecast with the figures the API reports to the rep', async () => {
    const pipelineId = ok(await rep.GET('/api/v1/crm/pipelines')).data[0].id;
    const query = { params: { query: { pipelineId } } };
    const pipeline = ok(await rep.GET('/api/v1/crm/reports/pipeline', query));
    const conversion = ok(await rep.GET('/api/v1/crm/reports/conversion', query));
    const winRate = ok(await rep.GET('/api/v1/crm/reports/win-rate', query));
    const forecast = ok(await rep.GET('/api/v1/crm/reports/forecast', query));
    const currency = pipeline.stages.flatMap((s) => s.byCurrency.map((c) => c.currency))[0] ?? forecast.data[0]?.currency ?? 'EUR';
    // The rep owns deals in the demo: the charts are not empty.
    expect(pipeline.stages.some((s) => s.count > 0)).toBe(true);

    const page = await open('crm/reports');
    /** A chart's value labels; the zero bars' labels left out (recharts may or may not draw them). */
    const labels = async (testId: string, zero: string) => {
      const chart = page.getByTestId(testId);
      await chart.locator('.recharts-label-list text, .recharts-label').first().waitFor();
      return (await chart.locator('.recharts-label-list text, .recharts-label').allTextContents()).filter((label) => label !== zero).sort();
    };
    const zeroMoney = money(0, currency);
    const figures = (values: number[], format: (n: number) => string, zero: string) =>
      values
        .map(format)
        .filter((label) => label !== zero)
        .sort();
    const inCurrency = (s: (typeof pipeline.stages)[number]) => s.byCurrency.find((c) => c.currency === currency);
    expect(await labels('report-pipeline', zeroMoney)).toEqual(
      figures([...pipeline.stages.map((s) => inCurrency(s)?.amount ?? 0), ...pipeline.stages.map((s) => inCurrency(s)?.weightedAmount ?? 0)], (n) => money(n, currency), zeroMoney),
    );
    const rates = conversion.stages.filter((s) => s.conversionRate !== null).map((s) => Math.round(s.conversionRate! * 1000) / 10);
    if (rates.some((r) => r !== 0)) expect(await labels('report-conversion', number(0))).toEqual(figures(rates, number, number(0)));
    const months = forecast.data.filter((f) => f.currency === currency);
    expect(months.length).toBeGreaterThan(0);
    expect(await labels('report-forecast', zeroMoney)).toEqual(figures([...months.map((f) => f.weightedAmount), ...months.map((f) => f.amount)], (n) => money(n, currency), zeroMoney));
    const rate = page.getByTestId('win-rate');
    expect(await rate.innerText()).toBe(
      winRate.winRate === null ? 'No closed deals yet' : `Win rate ${new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1 }).format(winRate.winRate)}`,
    );
    await page.getByText(`Won: ${winRate.won}`, { exact: true }).waitFor();
    await page.getByText(`Lost: ${winRate.lost}`, { exact: true }).waitFor();
    await checks(page, 'crm-reports');
    await page.context().close();
  }, 600_000);

  it('saves the filters of the deal list as a view, and the view lists what the API lists with the same filters', async () => {
    const won = ok(await rep.GET('/api/v1/crm/deals', { params: { query: { status: 'won', limit: 100 } } })).data;
    const all = ok(await rep.GET('/api/v1/crm/deals', { params: { query: { limit: 100 } } })).data;
    expect(won.length).toBeGreaterThan(0);
    expect(all.length).toBeGreaterThan(won.length);
    const titles = async (page: Page) => {
      const rows = page.locator('main table').getByRole('row');
      return (await rows.allInnerTexts()).slice(1).map((row) => row.split('\t')[0].trim());
    };

    const page = await open('crm/deals');
    await page.locator('main table').getByRole('row').nth(all.length).waitFor();
    expect((await titles(page)).sort()).toEqual(all.map((d) => d.title).sort());
    await page.getByRole('combobox', { name: 'Status' }).click();
    await page.getByRole('option', { name: 'Won' }).click();
    await expect.poll(async () => (await titles(page)).length, { timeout: 60_000 }).toBe(won.length);
    const name = `Won deals ${stamp}`;
    await page.getByLabel('Name of a new view').fill(name);
    await page.getByRole('button', { name: 'Save these filters' }).click();
    await page.getByRole('group', { name: 'Saved views' }).getByText(name).waitFor();
    const views = ok(await rep.GET('/api/v1/crm/views', { params: { query: { resource: 'deals' } } })).data;
    expect(views.find((v) => v.name === name)?.filters).toMatchObject({ status: 'won' });
    await checks(page, 'crm-deals');
    await page.context().close();

    // A fresh page: choosing the saved view applies its filters.
    const again = await open('crm/deals');
    await again.locator('main table').getByRole('row').nth(all.length).waitFor();
    await again.getByRole('combobox', { name: 'Saved view' }).click();
    await again.getByRole('option', { name }).click();
    await expect.poll(async () => (await titles(again)).sort(), { timeout: 60_000 }).toEqual(won.map((d) => d.title).sort());
    await again.context().close();
  }, 600_000);

  it('shows the buyer side: our vendors, what we bought from each, and how the vendor records us', async () => {
    const vendors = ok(await rep.GET('/api/v1/crm/vendors', { params: { query: { limit: 200 } } })).data;
    expect(vendors.length).toBeGreaterThan(0);
    const page = await open('crm/vendors');
    for (const { party } of vendors) await page.getByRole('region', { name: party.name }).waitFor();
    expect(await page.locator('main section h2').allInnerTexts()).toEqual(vendors.map((v) => v.party.name));

    const { party, relationship } = vendors[0];
    const timeline = ok(await rep.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: party.id }, query: { limit: 100 } } })).data;
    const bought = timeline.filter((i) => ['crm.purchase', 'crm.offer-received', 'crm.quote-received', 'crm.complaint'].includes(i.type));
    const otherSide = ok(await rep.GET('/api/v1/crm/relationships/{id}/other-side', { params: { path: { id: relationship.id } } }));
    const card = page.getByRole('region', { name: party.name });
    await card.getByRole('button', { name: 'What we bought, and how they see us' }).click();
    await card.getByTestId('other-side').waitFor();
    if (bought.length === 0) await card.getByText('Nothing recorded yet.').waitFor();
    else {
      const rows = card.getByRole('row');
      await rows.nth(bought.length).waitFor();
      expect((await rows.allInnerTexts()).slice(1).map((row) => row.split('\t')[2].trim())).toEqual(bought.map((i) => i.subject ?? ''));
    }
    // The relationship as the vendor's records have it: the roles read from the other end.
    const text = await card.getByTestId('other-side').innerText();
    expect(otherSide.viewpoint.role).not.toBe(otherSide.viewpoint.counterpartRole);
    expect(text).toMatch(/^In their records they are the .+ and we are their .+\.$/);
    await checks(page, 'crm-vendors');
    await page.context().close();
  }, 600_000);
});
