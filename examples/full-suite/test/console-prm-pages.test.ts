import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { login, ok, type RapportClient } from '@rapport/client';
import { launchBrowser, openPage, pageChecks, persona, startConsoleServer, type ConsoleServer } from './console/harness.js';
import { PARTNER_PROGRAM } from '../src/seed/partners.js';
import type { DemoUser } from '../src/seed/users.js';

/*
 * The PRM's console pages the registration and scorecard tests do not cover: the partner
 * portal as the partner's user works with it (tier and the gap to the next one, leads offered,
 * market development funds, training, shared content, a joint plan, the scorecard), the
 * firm's channel view, and the supply side from RFQ to delivery. What the pages show is
 * checked against what the API answers the same user; each page passes axe and fits 360 px.
 */
describe('console: the PRM pages', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let admin: RapportClient;
  let partner: RapportClient;
  let alpha: string;
  const stamp = Date.now().toString(36);
  const number = (n: number) => new Intl.NumberFormat('en-GB').format(n);
  const money = (amount: number, currency: string) => new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(amount);

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    admin = (await login({ baseUrl: server.url, email: persona('admin').email, password: persona('admin').password })).client;
    partner = (await login({ baseUrl: server.url, email: persona('partner').email, password: persona('partner').password })).client;
    alpha = ok(await admin.GET('/api/v1/parties', { params: { query: { domain: 'alpha-resellers.example' } } })).data[0].id;
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(user: DemoUser, path: string): Promise<Page> {
    return openPage(browser, server, user, path);
  }

  const checks = (page: Page, name: string) => pageChecks(page, server, name);

  const portalTab = async (tab: string) => {
    const page = await open(persona('partner'), 'prm/portal');
    await page.getByRole('tab', { name: tab }).click();
    return page;
  };

  it('shows the partner its tier, what is missing for the next tier, and its scorecard, as the API gives them', async () => {
    const tier = ok(await partner.GET('/api/v1/prm/partners/{partnerId}/tier', { params: { path: { partnerId: alpha } } }));
    const program = ok(await partner.GET('/api/v1/prm/programs')).data.find((p) => p.name === tier.program)!;
    const next = program.tiers.find((t) => t.name === tier.nextTier);
    expect(next).toBeDefined();
    const card = ok(await partner.GET('/api/v1/prm/partners/{partnerId}/scorecard', { params: { path: { partnerId: alpha } } }));

    const page = await open(persona('partner'), 'prm/portal');
    await page.getByTestId('current-tier').waitFor();
    expect(await page.getByTestId('current-tier').innerText()).toBe(tier.currentTier!.toUpperCase());
    expect(await page.getByTestId('next-tier').innerText()).toBe(tier.nextTier);
    const metrics = (['partnerSourcedRevenue', 'approvedRegistrations', 'registrationApprovalRate', 'certifiedStaff'] as const).filter((m) => next!.criteria[m] !== undefined);
    expect(metrics.length).toBeGreaterThan(0);
    for (const m of metrics) {
      const value = (n: number) => (m === 'registrationApprovalRate' ? `${number(n)} %` : number(n));
      const gap = tier.gap[m] ?? 0;
      expect(await page.getByTestId(`gap-${m}`).innerText(), m).toBe(gap > 0 ? `${value(tier.metrics[m])} of ${value(next!.criteria[m])}: ${value(gap)} to go` : `${value(tier.metrics[m])}: met`);
    }
    const scorecard = page.getByRole('region', { name: 'Mutual-benefit scorecard' });
    const row = async (label: string) => (await scorecard.getByRole('row', { name: label }).getByRole('cell').innerText()).trim();
    const n = (v: number | null) => (v === null ? '—' : number(Math.round(v * 100) / 100));
    expect(await row('Partner-sourced revenue')).toBe(n(card.partnerSourcedRevenue));
    expect(await row('Leads accepted of offered')).toBe(`${number(card.leadsAccepted)} / ${number(card.leadsOffered)}`);
    expect(await row('Marketing funds used')).toBe(n(card.mdfUsed));
    expect(await row('Margin earned')).toBe(n(card.marginEarned));
    await checks(page, 'prm-portal-overview');
    await page.context().close();
  }, 600_000);

  it('lets the partner accept one lead offered and decline another with a reason', async () => {
    ok(await admin.POST('/api/v1/prm/lead-rules', { body: { name: `All resellers ${stamp}`, kinds: ['reseller'], weight: 10 } }));
    const wanted = ok(
      await admin.POST('/api/v1/prm/leads', {
        body: { customerName: `Hooli Bottling ${stamp}`, contactName: 'Gavin B', contactEmail: `gavin.${stamp}@hooli.example`, value: 60_000, currency: 'EUR' },
      }),
    );
    const unwanted = ok(await admin.POST('/api/v1/prm/leads', { body: { customerName: `Pied Piper Foods ${stamp}`, value: 9_000, currency: 'EUR' } }));
    const offers = ok(await partner.GET('/api/v1/prm/lead-offers', { params: { query: { partnerId: alpha, status: 'offered' } } })).data;
    expect(offers.map((o) => o.lead.customerName)).toEqual(expect.arrayContaining([wanted.customerName, unwanted.customerName]));

    const page = await portalTab('Leads');
    const first = page.getByRole('article', { name: wanted.customerName });
    await first.getByRole('button', { name: 'Accept' }).click();
    await first.getByText('accepted', { exact: true }).waitFor();
    // Accepted: the contact is revealed to the partner.
    await first.getByText(new RegExp(`Contact: Gavin B gavin\\.${stamp}@hooli\\.example`)).waitFor();
    const second = page.getByRole('article', { name: unwanted.customerName });
    await second.getByLabel('Reason to decline').fill('Outside our region');
    await second.getByRole('button', { name: 'Decline' }).click();
    await second.getByText('declined', { exact: true }).waitFor();
    const after = ok(await partner.GET('/api/v1/prm/lead-offers', { params: { query: { partnerId: alpha } } })).data;
    expect(after.find((o) => o.leadId === wanted.id)?.status).toBe('accepted');
    expect(after.find((o) => o.leadId === unwanted.id)?.status).toBe('declined');
    // The page lists what the API lists.
    expect(await page.getByRole('article').count()).toBe(after.length);
    await checks(page, 'prm-portal-leads');
    await page.context().close();
  }, 600_000);

  it('lets the partner request market development funds and, once approved, claim them', async () => {
    const budgets = ok(await partner.GET('/api/v1/prm/mdf/budgets')).data;
    expect(budgets.length).toBeGreaterThan(0);
    const activity = `Webinar on conveyor safety ${stamp}`;
    const page = await portalTab('Marketing funds');
    // What a partner may see of a budget: what is left only if the program shares it, else its own figures.
    const own = (b: (typeof budgets)[number]) =>
      `Yours: ${money(b.own!.requested, b.currency)} requested, ${money(b.own!.approved, b.currency)} approved, ${money(b.own!.claimed, b.currency)} claimed`;
    for (const b of budgets) {
      if (b.remaining !== null)
        await page
          .getByText(`${money(b.remaining, b.currency)} / ${money(b.amount, b.currency)}`)
          .first()
          .waitFor();
      else expect(await page.getByTestId('mdf-remaining').count()).toBe(0);
      if (b.own) await page.getByText(own(b)).waitFor();
    }
    await page.getByRole('combobox', { name: 'Budget' }).click();
    await page.getByRole('option').first().click();
    await page.getByRole('textbox', { name: 'Activity' }).fill(activity);
    await page.getByRole('textbox', { name: 'Amount' }).fill('1500');
    await page.getByRole('button', { name: 'Request', exact: true }).click();
    const row = page.getByRole('row', { name: new RegExp(activity) });
    await row.getByText('requested', { exact: true }).waitFor();
    const request = ok(await partner.GET('/api/v1/prm/mdf/requests', { params: { query: { partnerId: alpha } } })).data.find((r) => r.activity === activity)!;
    expect(request).toMatchObject({ amount: 1500, status: 'requested' });

    ok(await admin.POST('/api/v1/prm/mdf/requests/{id}/approve', { params: { path: { id: request.id } }, body: {} }));
    await page.reload();
    await page.getByRole('tab', { name: 'Marketing funds' }).click();
    await row.getByText('approved', { exact: true }).waitFor();
    await row.getByRole('textbox', { name: 'Spent' }).fill('1200');
    await row.getByRole('textbox', { name: 'Proof (invoice, link)' }).fill(`https://files.example/invoice-${stamp}.pdf`);
    await row.getByRole('button', { name: 'Claim' }).click();
    await row.getByText('claimed', { exact: true }).waitFor();
    expect(ok(await partner.GET('/api/v1/prm/mdf/requests/{id}', { params: { path: { id: request.id } } }))).toMatchObject({ status: 'claimed', claimedAmount: 1200 });
    await row.getByText(money(1200, budgets.find((b) => b.id === request.budgetId)!.currency)).waitFor();
    const budget = ok(await partner.GET('/api/v1/prm/mdf/budgets')).data.find((b) => b.id === request.budgetId)!;
    expect(budget.own?.claimed).toBeGreaterThanOrEqual(1200);
    await page.getByText(own(budget)).waitFor();
    await checks(page, 'prm-portal-mdf');
    await page.context().close();
  }, 600_000);

  it('shows the training catalogue and the content shared with the partner, as the API lists them', async () => {
    ok(await admin.POST('/api/v1/prm/courses', { body: { title: `Conveyor service basics ${stamp}`, validityDays: 365 } }));
    ok(await admin.POST('/api/v1/prm/documents', { body: { title: `Price list 2027 ${stamp}`, url: 'https://files.example/prices-2027.pdf', program: PARTNER_PROGRAM } }));
    const courses = ok(await partner.GET('/api/v1/prm/courses', { params: { query: { limit: 200 } } })).data;
    const docs = ok(await partner.GET('/api/v1/prm/documents', { params: { query: { limit: 200 } } })).data;
    expect(courses.length).toBeGreaterThan(0);
    expect(docs.map((d) => d.title)).toContain(`Price list 2027 ${stamp}`);

    const training = await portalTab('Training');
    const panel = training.getByRole('tabpanel');
    await panel.getByText(courses[0].title).waitFor();
    for (const course of courses) await panel.getByText(course.title, { exact: true }).waitFor();
    expect(await panel.getByText(/^Your staff: /).count()).toBe(courses.length);
    await checks(training, 'prm-portal-training');
    await training.context().close();

    const content = await portalTab('Shared content');
    const rows = content.getByRole('tabpanel').getByRole('row');
    await rows.nth(docs.length).waitFor();
    expect((await rows.allInnerTexts()).slice(1).map((r) => r.split('\t')[0].split('\n')[0].trim())).toEqual(docs.map((d) => d.title));
    expect(await content.getByRole('link', { name: `Price list 2027 ${stamp}` }).getAttribute('href')).toBe('https://files.example/prices-2027.pdf');
    await checks(content, 'prm-portal-content');
    await content.context().close();
  }, 600_000);

  it('lets the partner create a joint plan, add a goal and record its progress; the firm sees the edits', async () => {
    const title = `Joint plan ${stamp}`;
    const page = await portalTab('Joint plans');
    await page.getByRole('textbox', { name: 'Title of a new plan' }).fill(title);
    await page.getByRole('textbox', { name: 'Period' }).fill('2027');
    await page.getByRole('button', { name: 'Create the plan' }).click();
    await page.getByRole('table').waitFor();
    await page.getByRole('textbox', { name: 'Goal or milestone' }).fill('Machines sold');
    await page.getByRole('textbox', { name: 'Target' }).fill('10');
    await page.getByRole('textbox', { name: 'Unit' }).fill('machines');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const actual = page.getByRole('textbox', { name: 'Actual: Machines sold' });
    await actual.fill('4');
    await actual.press('Tab');
    const plan = ok(await partner.GET('/api/v1/prm/plans')).data.find((p) => p.title === title)!;
    await expect.poll(async () => ok(await partner.GET('/api/v1/prm/plans/{id}', { params: { path: { id: plan.id } } })).items[0]?.actual, { timeout: 60_000 }).toBe(4);
    const detail = ok(await admin.GET('/api/v1/prm/plans/{id}', { params: { path: { id: plan.id } } }));
    expect(detail.items.map((i) => [i.title, i.target, i.actual])).toEqual([['Machines sold', 10, 4]]);
    expect(detail.edits.map((e) => [e.side, e.action])).toEqual([
      ['partner', 'plan-created'],
      ['partner', 'item-added'],
      ['partner', 'item-updated'],
    ]);
    await page.getByText(/the partner · changed an item/).waitFor();
    await checks(page, 'prm-portal-plans');
    await page.context().close();
  }, 600_000);

  it("shows the firm's channel: every partnership with its status, and a partner's standing", async () => {
    const relationships = ok(await admin.GET('/api/v1/relationships', { params: { query: { type: 'prm.partner', limit: 200 } } })).data;
    const page = await open(persona('admin'), 'prm/channel');
    const rows = page.getByRole('tabpanel').getByRole('row');
    await rows.nth(relationships.length).waitFor();
    const shown = (await rows.allInnerTexts()).slice(1).map((r) =>
      r
        .split('\t')
        .slice(0, 2)
        .map((c) => c.trim()),
    );
    const statusWord: Record<string, string> = { active: 'ACTIVE', review: 'IN REVIEW', application: 'APPLICATION' };
    const names = await Promise.all(relationships.map(async (r) => ok(await admin.GET('/api/v1/parties/{id}', { params: { path: { id: r.toPartyId } } })).name));
    expect(shown).toEqual(relationships.map((r, i) => [names[i], statusWord[r.status ?? ''] ?? r.status?.toUpperCase()]));
    await page.getByRole('button', { name: 'Show Alpha Machinery Resellers' }).click();
    const tier = ok(await admin.GET('/api/v1/prm/partners/{partnerId}/tier', { params: { path: { partnerId: alpha } } }));
    await page.getByTestId('current-tier').waitFor();
    expect(await page.getByTestId('current-tier').innerText()).toBe(tier.currentTier!.toUpperCase());
    await page.getByRole('region', { name: 'Mutual-benefit scorecard' }).waitFor();
    await checks(page, 'prm-channel');
    await page.context().close();
  }, 600_000);

  it('takes a purchase from RFQ to a quote the supplier sends on the page, an award on the page, a purchase order and its delivery, which the supplier sees', async () => {
    const supplierUser = persona('supplier');
    const supplier = (await login({ baseUrl: server.url, email: supplierUser.email, password: supplierUser.password })).client;
    const party = async (domain: string) => ok(await admin.GET('/api/v1/parties', { params: { query: { domain } } })).data[0].id;
    const steel = await party('steelworks.example');
    const bolts = await party('boltnut.example');
    const title = `Aluminium profiles ${stamp}`;
    const rfq = ok(await admin.POST('/api/v1/prm/rfqs', { body: { title, quantity: 500, unit: 'm', respondBy: new Date(Date.now() + 7 * 86_400_000).toISOString(), supplierIds: [steel, bolts] } }));
    // The supplier's user answers on the page, signed in as itself; the other quote is entered by the firm.
    const answering = await open(supplierUser, 'prm/supply');
    await answering.getByRole('tab', { name: 'Requests for quotes' }).click();
    const asked = answering.getByRole('article', { name: title });
    await asked.getByText('No quotes yet.').waitFor();
    const form = asked.getByRole('region', { name: 'Your quote' });
    await form.getByRole('textbox', { name: 'Unit price' }).fill('7.5');
    await form.getByRole('textbox', { name: 'Currency (ISO code)' }).fill('eur');
    // A typo the form lets through and the API refuses: its message is shown on the field, nothing is quoted.
    const leadTime = form.getByRole('textbox', { name: 'Lead time in days' });
    await leadTime.fill('4000');
    await form.getByRole('button', { name: 'Send the quote' }).click();
    await expect.poll(() => leadTime.getAttribute('aria-invalid'), { timeout: 60_000 }).toBe('true');
    const refused = await supplier.POST('/api/v1/prm/rfqs/{id}/quotes', { params: { path: { id: rfq.id } }, body: { supplierId: steel, unitPrice: 7.5, currency: 'EUR', leadTimeDays: 4000 } });
    expect(refused.response.status).toBe(400);
    const said = (refused.error as { errors: Array<{ path: string; message: string }> }).errors.find((e) => e.path === 'body.leadTimeDays')!.message;
    // On the field itself: what describes the input to a screen reader.
    const describedBy = (await leadTime.getAttribute('aria-describedby'))!.split(' ');
    expect(await answering.evaluate((ids) => ids.map((id) => (globalThis as any).document.getElementById(id)?.textContent ?? ''), describedBy)).toContain(said);
    expect(ok(await supplier.GET('/api/v1/prm/rfqs/{id}', { params: { path: { id: rfq.id } } })).quotes).toEqual([]);
    await checks(answering, 'prm-supply-quote-refused');
    await leadTime.fill('10');
    await form.getByRole('button', { name: 'Send the quote' }).click();
    // Taken: the list is read again and shows the quote, the form is gone.
    const mine = asked.getByRole('row', { name: /Steelworks Ltd/ });
    await mine.waitFor();
    expect((await mine.innerText()).split('\t').map((c) => c.trim())).toEqual(['Steelworks Ltd', money(7.5, 'EUR'), '10 days', 'submitted']);
    expect(await asked.getByRole('region', { name: 'Your quote' }).count()).toBe(0);
    const quotes = ok(await supplier.GET('/api/v1/prm/rfqs/{id}', { params: { path: { id: rfq.id } } })).quotes;
    expect(quotes.map((q) => [q.supplierId, q.unitPrice, q.currency, q.leadTimeDays, q.status])).toEqual([[steel, 7.5, 'EUR', 10, 'submitted']]);
    const quote = quotes[0];
    await answering.context().close();
    ok(await admin.POST('/api/v1/prm/rfqs/{id}/quotes', { params: { path: { id: rfq.id } }, body: { supplierId: bolts, unitPrice: 8.1, currency: 'EUR', leadTimeDays: 5 } }));

    const page = await open(persona('admin'), 'prm/supply');
    await page.getByRole('tab', { name: 'Requests for quotes' }).click();
    const card = page.getByRole('article', { name: title });
    const steelRow = card.getByRole('row', { name: /Steelworks Ltd/ });
    expect((await steelRow.innerText()).split('\t').map((c) => c.trim())).toEqual(['Steelworks Ltd', money(7.5, 'EUR'), '10 days', 'Award']);
    await steelRow.getByRole('button', { name: 'Award' }).click();
    await card
      .getByRole('row', { name: /Bolt & Nut Co/ })
      .getByText('not chosen')
      .waitFor();
    const awarded = ok(await admin.GET('/api/v1/prm/rfqs/{id}', { params: { path: { id: rfq.id } } }));
    expect(awarded.status).toBe('awarded');
    expect(awarded.quotes.find((q) => q.id === quote.id)?.status).toBe('awarded');
    await checks(page, 'prm-supply-rfqs');
    await page.context().close();

    const reference = `PO-${stamp}`;
    const promisedAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const order = ok(
      await admin.POST('/api/v1/prm/purchase-orders', { body: { supplierId: steel, reference, quantity: 500, unitPrice: 7.5, currency: 'EUR', promisedAt, rfqId: rfq.id, quoteId: quote.id } }),
    );
    ok(
      await admin.POST('/api/v1/prm/purchase-orders/{id}/deliveries', {
        params: { path: { id: order.id } },
        body: { receivedAt: new Date().toISOString(), quantityAccepted: 495, quantityRejected: 5 },
      }),
    );

    // The supplier's own view: its order with the delivery, on time.
    const orders = ok(await supplier.GET('/api/v1/prm/purchase-orders')).data;
    expect(orders.every((o) => o.supplierId === steel)).toBe(true);
    const theirs = await open(supplierUser, 'prm/supply');
    await theirs.getByRole('tab', { name: 'Purchase orders' }).click();
    const po = theirs.getByRole('article', { name: `${reference} · Steelworks Ltd` });
    await po.getByText(money(500 * 7.5, 'EUR')).waitFor();
    await po.getByText(/495 accepted, 5 rejected \(on time\)/).waitFor();
    expect(await theirs.getByRole('article').count()).toBe(orders.length);
    expect(await theirs.locator('main').innerText()).not.toContain('Bolt & Nut');
    await checks(theirs, 'prm-supply-orders');
    await theirs.context().close();
  }, 600_000);
});
