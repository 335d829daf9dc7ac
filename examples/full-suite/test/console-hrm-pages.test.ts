import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { login, ok, type RapportClient } from '@rapport/client';
import { axeViolations, launchBrowser, openPage, pageChecks, persona, screenshot, startConsoleServer, untranslatedWords, type ConsoleServer } from './console/harness.js';
import type { DemoUser } from '../src/seed/users.js';
import { DEFAULT_MIN_GROUP_SIZE } from '../../../plugins/hrm/src/options.js';

/*
 * The HRM's console pages the survey test does not cover: the employee's own space (profile,
 * the service desk with its SLA, recognition, announcements to acknowledge), the manager's
 * team (upward feedback, retention risk with its factors), the internal service scorecard and
 * HR's reviews, recruiting and onboarding. What the pages show is checked against what the
 * API answers the same user; each page passes axe and fits 360 px.
 */
describe('console: the HRM pages', () => {
  let server: ConsoleServer;
  let browser: Browser;
  let admin: RapportClient;
  let employee: RapportClient;
  const stamp = Date.now().toString(36);
  const number = (n: number) => new Intl.NumberFormat('en-GB').format(n);
  const dateTime = (d: string) => new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(d));
  const date = (d: string) => new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' }).format(new Date(d));

  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchBrowser();
    admin = (await login({ baseUrl: server.url, email: persona('admin').email, password: persona('admin').password })).client;
    employee = (await login({ baseUrl: server.url, email: persona('employee').email, password: persona('employee').password })).client;
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(user: DemoUser, path: string): Promise<Page> {
    return openPage(browser, server, user, path);
  }

  const checks = (page: Page, name: string) => pageChecks(page, server, name);

  const tab = async (user: DemoUser, path: string, name: string) => {
    const page = await open(user, path);
    await page.getByRole('tab', { name }).click();
    return page;
  };
  /** The sentence the page should show for each kudos received, from the giver's name as `reader` may read it and the message. */
  const kudosSentences = async (
    reader: RapportClient,
    received: Array<{ summary?: string | null; subject?: string | null; participants: Array<{ role?: string | null; partyId: string }> }>,
    sentence: (from: string, message: string) => string,
  ) =>
    Promise.all(
      received.map(async (k) => {
        const from = k.participants.find((p) => p.role === 'giver')!.partyId;
        const name = ok(await reader.GET('/api/v1/parties/{id}', { params: { path: { id: from } } })).name;
        return sentence(name, k.summary ?? k.subject ?? '');
      }),
    );
  const party = async (email: string) => ok(await admin.GET('/api/v1/parties', { params: { query: { email } } })).data[0].id;

  it("shows the employee's profile and timeline as the API has them", async () => {
    const me = ok(await employee.GET('/api/v1/hrm/me'));
    // The employee's reach: its manager's and its unit's parties (not their HRM records).
    const manager = ok(await employee.GET('/api/v1/parties/{id}', { params: { path: { id: me.managerId! } } }));
    const unit = ok(await employee.GET('/api/v1/parties/{id}', { params: { path: { id: me.employment!.unitId } } }));
    const timeline = ok(await employee.GET('/api/v1/hrm/employees/{id}/timeline', { params: { path: { id: me.id }, query: { limit: 50 } } })).data;
    expect(timeline.length).toBeGreaterThan(0);
    const page = await tab(persona('employee'), 'hrm/me', 'Profile and timeline');
    const panel = page.getByRole('tabpanel');
    await panel.getByText(manager.name, { exact: true }).waitFor();
    await panel.getByText(unit.name, { exact: true }).waitFor();
    await panel.getByText(date(me.employment!.start!), { exact: true }).waitFor();
    for (const i of timeline.filter((i) => i.subject)) await panel.getByText(i.subject!, { exact: true }).first().waitFor();
    expect(await panel.locator('.mantine-Card-root').count()).toBe(3 + timeline.length);
    await checks(page, 'hrm-me-profile');
    await page.context().close();
  }, 600_000);

  it('shows a failed answer to a survey with the problem and sends it again on retry; a survey closed meanwhile is said to be', async () => {
    const survey = async (title: string) => {
      const created = ok(await admin.POST('/api/v1/hrm/surveys', { body: { title, kind: 'pulse', questions: [{ id: 'recommend', type: 'enps', text: 'Would you recommend Northwind?' }] } }));
      ok(await admin.POST('/api/v1/hrm/surveys/{id}/open', { params: { path: { id: created.id } } }));
      return created;
    };
    const first = await survey(`Pulse retry ${stamp}`);
    const second = await survey(`Pulse closing ${stamp}`);
    const page = await open(persona('employee'), 'hrm/me');
    // The server fails once (as an overloaded one would); the answers stay and are sent again.
    await page.route(
      '**/api/v1/hrm/surveys/*/responses',
      (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/problem+json',
          body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The database did not answer' }),
        }),
      { times: 1 },
    );
    const form = page.getByRole('region', { name: first.title });
    await form.getByRole('radio', { name: '8', exact: true }).check();
    await form.getByRole('button', { name: 'Send my answers' }).click();
    const failure = form.getByTestId('failure');
    await failure.waitFor();
    expect(await failure.getByTestId('failure-problem').innerText()).toBe('Service Unavailable — The database did not answer');
    expect(ok(await admin.GET('/api/v1/hrm/surveys/{id}/participation', { params: { path: { id: first.id } } })).participants).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'hrm-survey-failed');
    await failure.getByRole('button', { name: 'Try again' }).click();
    await form.getByTestId('survey-done').waitFor();
    expect(ok(await admin.GET('/api/v1/hrm/surveys/{id}/participation', { params: { path: { id: first.id } } })).participants).toBe(1);

    // Closed after the page was read: the answer is refused (409) and the form says why, not "already answered".
    ok(await admin.POST('/api/v1/hrm/surveys/{id}/close', { params: { path: { id: second.id } } }));
    const late = page.getByRole('region', { name: second.title });
    await late.getByRole('radio', { name: '7', exact: true }).check();
    await late.getByRole('button', { name: 'Send my answers' }).click();
    await late.getByTestId('failure').getByText('This cannot be done in the record’s current state.').waitFor();
    expect(await late.getByTestId('failure-problem').innerText()).toContain('is closed');
    expect(await late.getByTestId('survey-done').count()).toBe(0);
    await page.context().close();
  }, 600_000);

  it('lets the employee ask the service desk for help, with the target it promises and the due time the API set', async () => {
    const services = ok(await employee.GET('/api/v1/hrm/services')).data.filter((s) => s.active);
    const laptop = services.find((s) => s.name === 'Laptop replacement')!;
    const title = `Docking station ${stamp}`;
    const page = await tab(persona('employee'), 'hrm/me', 'Service desk');
    await page.getByRole('combobox', { name: 'Service' }).click();
    await page.getByRole('option', { name: laptop.name }).click();
    await page.getByText(`Promised within ${number(Math.round((laptop.resolutionTargetMinutes / 60) * 10) / 10)} hours`).waitFor();
    await page.getByRole('textbox', { name: 'What do you need?' }).fill(title);
    await page.getByRole('button', { name: 'Send the request' }).click();
    const row = page.getByRole('row', { name: new RegExp(title) });
    await row.waitFor();
    const me = ok(await employee.GET('/api/v1/hrm/me'));
    const mine = ok(await employee.GET('/api/v1/hrm/requests', { params: { query: { requesterPartyId: me.id, limit: 100 } } })).data;
    const request = mine.find((r) => r.title === title)!;
    expect(request.serviceId).toBe(laptop.id);
    // The SLA: due the service's resolution target after it was raised.
    expect(new Date(request.resolutionDueAt).getTime() - new Date(request.openedAt).getTime()).toBe(laptop.resolutionTargetMinutes * 60_000);
    const cells = row.getByRole('cell');
    expect(await cells.nth(0).innerText()).toMatch(new RegExp(`${title}\\s+${laptop.name}`));
    expect((await cells.allInnerTexts()).slice(1).map((c) => c.trim())).toEqual(['OPEN', dateTime(request.resolutionDueAt), '—']);
    expect(await page.getByRole('tabpanel').locator('tbody tr').count()).toBe(mine.length);
    await checks(page, 'hrm-me-desk');
    await page.context().close();
  }, 600_000);

  it('lets the employee recognise a colleague and shows the kudos received', async () => {
    const tom = await party(persona('employee').email);
    const maria = await party(persona('manager').email);
    const omar = await party('omar.haddad@northwind.example');
    ok(await admin.POST('/api/v1/hrm/kudos', { body: { fromPartyId: maria, toPartyId: tom, message: `Thanks for the night shift ${stamp}` } }));
    const page = await tab(persona('employee'), 'hrm/me', 'Recognition');
    await page.getByText(`Thanks for the night shift ${stamp}`).waitFor();
    const received = ok(await employee.GET('/api/v1/hrm/employees/{id}/timeline', { params: { path: { id: tom }, query: { type: 'hrm.kudos', limit: 50 } } })).data.filter((k) =>
      k.participants.some((p) => p.role === 'receiver' && p.partyId === tom),
    );
    // Each kudos is one sentence, the giver's name as the employee may read it (a colleague's party) and the message in it.
    const sentences = await kudosSentences(employee, received, (from, message) => `${from} thanked you: “${message}”`);
    expect(await page.getByTestId('kudos').count()).toBe(received.length);
    for (const sentence of sentences) await page.getByText(sentence, { exact: true }).waitFor();
    const giver = ok(await employee.GET('/api/v1/parties/{id}', { params: { path: { id: maria } } })).name;
    await page.getByText(`${giver} thanked you: “Thanks for the night shift ${stamp}”`, { exact: true }).waitFor();

    const message = `Fixed the line PC in minutes ${stamp}`;
    await page.getByRole('combobox', { name: 'Colleague' }).fill('Omar');
    await page.getByRole('option', { name: 'Omar Haddad' }).click();
    await page.getByRole('textbox', { name: 'What for?' }).fill(message);
    await page.getByRole('button', { name: 'Send kudos' }).click();
    await expect
      .poll(
        async () => ok(await admin.GET('/api/v1/hrm/employees/{id}/timeline', { params: { path: { id: omar }, query: { type: 'hrm.kudos', limit: 50 } } })).data.map((k) => k.summary ?? k.subject),
        {
          timeout: 60_000,
        },
      )
      .toContain(message);
    await checks(page, 'hrm-me-recognition');
    await page.context().close();
  }, 600_000);

  it('shows each kudos received as one Ukrainian sentence, the name and the message in it', async () => {
    const tom = await party(persona('employee').email);
    const maria = await party(persona('manager').email);
    ok(await admin.POST('/api/v1/hrm/kudos', { body: { fromPartyId: maria, toPartyId: tom, message: `Дякую за інвентаризацію ${stamp}` } }));
    const received = ok(await employee.GET('/api/v1/hrm/employees/{id}/timeline', { params: { path: { id: tom }, query: { type: 'hrm.kudos', limit: 50 } } })).data.filter((k) =>
      k.participants.some((p) => p.role === 'receiver' && p.partyId === tom),
    );
    const sentences = await kudosSentences(employee, received, (from, message) => `${from} дякує вам: «${message}»`);
    const page = await openPage(browser, server, persona('employee'), 'hrm/me', { language: 'uk' });
    await page.getByRole('tab', { name: 'Подяки' }).click();
    await page.getByText(`Дякую за інвентаризацію ${stamp}`).waitFor();
    expect(await page.getByTestId('kudos').count()).toBe(received.length);
    for (const sentence of sentences) await page.getByText(sentence, { exact: true }).waitFor();
    // Names and messages are data; every word around them is Ukrainian.
    expect(await untranslatedWords(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'hrm-me-recognition-uk');
    await page.context().close();
  }, 600_000);

  it('lets the employee acknowledge an announcement, which the API records', async () => {
    const announcement = ok(await admin.POST('/api/v1/hrm/announcements', { body: { title: `New safety rules ${stamp}`, body: 'Goggles on the assembly floor at all times.', requiresAck: true } }));
    const page = await tab(persona('employee'), 'hrm/me', 'Announcements');
    const card = page.getByRole('article', { name: announcement.title });
    await card.getByRole('button', { name: 'I have read and understood this' }).click();
    const acknowledged = async () => ok(await employee.GET('/api/v1/hrm/announcements', { params: { query: { limit: 50 } } })).data.find((a) => a.id === announcement.id)?.acknowledgedAt;
    await expect.poll(acknowledged, { timeout: 60_000 }).toBeTruthy();
    await card.getByText(`Acknowledged on ${date((await acknowledged())!)}`).waitFor();
    const listed = ok(await employee.GET('/api/v1/hrm/announcements', { params: { query: { limit: 50 } } })).data;
    expect(await page.getByRole('article').count()).toBe(listed.length);
    await checks(page, 'hrm-me-announcements');
    await page.context().close();
  }, 600_000);

  it("shows the manager the upward feedback of the last closed cycle and each report's retention risk with its factors", async () => {
    const cycle = ok(
      await admin.POST('/api/v1/hrm/review-cycles', {
        body: {
          name: `H1 review ${stamp}`,
          periodStart: new Date(Date.now() - 180 * 86_400_000).toISOString(),
          periodEnd: new Date(Date.now() - 86_400_000).toISOString(),
          competencies: ['delivery'],
          scale: { name: 'three-step', levels: ['below', 'meets', 'exceeds'] },
          formula: { goals: 0.5, competencies: 0.5, reviewers: { self: 0.2, manager: 0.5, peer: 0.3, upward: 0.5 }, goalCap: 1.2 },
        },
      }),
    );
    ok(await admin.POST('/api/v1/hrm/review-cycles/{id}/close', { params: { path: { id: cycle.id } } }));
    const managerUser = persona('manager');
    const manager = (await login({ baseUrl: server.url, email: managerUser.email, password: managerUser.password })).client;
    const me = ok(await manager.GET('/api/v1/hrm/me'));
    const closed = ok(await manager.GET('/api/v1/hrm/review-cycles', { params: { query: { status: 'closed', limit: 1 } } })).data[0];
    const feedback = ok(await manager.GET('/api/v1/hrm/review-cycles/{id}/feedback/{employeeId}', { params: { path: { id: closed.id, employeeId: me.id } } }));
    const scores = ok(await manager.GET('/api/v1/hrm/review-cycles/{id}/scores/{employeeId}', { params: { path: { id: closed.id, employeeId: me.id } } }));
    expect(me.reportIds.length).toBeGreaterThan(0);

    const page = await open(managerUser, 'hrm/team');
    const upward = page.getByRole('region', { name: 'Upward feedback' });
    if (feedback.upward.suppressed || scores.byKind.upward?.suppressed) await upward.getByText('Not enough answers').waitFor();
    else await upward.getByText(`Your reports rated you ${scores.byKind.upward?.score == null ? '—' : Math.round(scores.byKind.upward.score)} of 100 in ${closed.name}.`).waitFor();

    const reports = page.getByRole('region', { name: 'Retention risk of my reports' });
    for (const id of me.reportIds) {
      const person = ok(await manager.GET('/api/v1/hrm/employees/{id}', { params: { path: { id } } }));
      const risk = ok(await manager.GET('/api/v1/hrm/employees/{id}/retention-risk', { params: { path: { id } } }));
      const card = reports.locator('.mantine-Card-root', { has: page.getByText(person.name, { exact: true }) });
      const level = { low: 'Low', medium: 'Medium', high: 'High' }[risk.level];
      await card.getByText(new RegExp(`${level} risk · ${number(Math.round(risk.score))}`, 'i')).waitFor();
      for (const f of risk.factors)
        await card
          .getByText(`${number(Math.round(f.contribution * 10) / 10)} of ${number(f.weight)} points`)
          .first()
          .waitFor();
      // One bar per factor (a bar at zero is drawn empty, so it is counted, not waited for).
      expect(await card.locator('[role="progressbar"]').count()).toBe(risk.factors.length);
    }
    await checks(page, 'hrm-team-risk');
    await page.context().close();
  }, 600_000);

  it("shows the manager the upward feedback above the anonymity threshold: the group's figures as the API gives them, no one's own answer", async () => {
    const cycle = ok(
      await admin.POST('/api/v1/hrm/review-cycles', {
        body: {
          name: `H2 review ${stamp}`,
          periodStart: new Date(Date.now() - 90 * 86_400_000).toISOString(),
          periodEnd: new Date(Date.now() - 86_400_000).toISOString(),
          competencies: ['delivery', 'listening'],
          scale: { name: 'three-step', levels: ['below', 'meets', 'exceeds'] },
        },
      }),
    );
    const managerUser = persona('manager');
    const manager = (await login({ baseUrl: server.url, email: managerUser.email, password: managerUser.password })).client;
    const me = ok(await manager.GET('/api/v1/hrm/me'));
    const unitId = me.employment!.unitId;
    // The threshold's worth of distinct reports, each reviewing the manager with its own session: Tom and new hires under Maria.
    const reviewers: Array<{ client: RapportClient; name: string }> = [{ client: employee, name: ok(await employee.GET('/api/v1/hrm/me')).name }];
    for (let i = reviewers.length; i < DEFAULT_MIN_GROUP_SIZE; i++) {
      const email = `report${i}.${stamp}@northwind.example`;
      const password = `report-${i}-${stamp}-password`;
      const hired = ok(
        await admin.POST('/api/v1/hrm/employees', {
          body: {
            person: { name: `Report${i} Person ${stamp}`, contactPoints: [{ kind: 'email', value: email }] },
            unitId,
            start: new Date(Date.now() - 200 * 86_400_000).toISOString(),
            managerId: me.id,
          },
        }),
      );
      ok(await admin.POST('/api/v1/users', { body: { email, name: hired.name, password, roles: ['employee'], partyId: hired.id, scoped: true } }));
      reviewers.push({ client: (await login({ baseUrl: server.url, email, password })).client, name: hired.name });
    }
    const given = ['exceeds', 'meets', 'exceeds', 'below', 'meets', 'exceeds', 'meets'];
    for (const [i, reviewer] of reviewers.entries()) {
      ok(
        await reviewer.client.POST('/api/v1/hrm/review-cycles/{id}/reviews', {
          params: { path: { id: cycle.id } },
          body: { subjectId: me.id, kind: 'upward', ratings: { delivery: given[i % given.length], listening: given[(i + 1) % given.length] }, feedback: `Comment number ${i + 1} ${stamp}` },
        }),
      );
    }
    ok(await admin.POST('/api/v1/hrm/review-cycles/{id}/close', { params: { path: { id: cycle.id } } }));
    const closed = ok(await manager.GET('/api/v1/hrm/review-cycles', { params: { query: { status: 'closed', limit: 1 } } })).data[0];
    expect(closed.id).toBe(cycle.id);
    const scores = ok(await manager.GET('/api/v1/hrm/review-cycles/{id}/scores/{employeeId}', { params: { path: { id: cycle.id, employeeId: me.id } } }));
    const feedback = ok(await manager.GET('/api/v1/hrm/review-cycles/{id}/feedback/{employeeId}', { params: { path: { id: cycle.id, employeeId: me.id } } }));
    // At the threshold the API releases the group's figures.
    expect(scores.byKind.upward.reviews).toBe(reviewers.length);
    expect(scores.byKind.upward.suppressed).not.toBe(true);
    expect(scores.byKind.upward.score).not.toBeNull();
    expect(feedback.upward.suppressed).toBe(false);
    expect(feedback.upward.feedback).toHaveLength(reviewers.length);

    const page = await open(managerUser, 'hrm/team');
    const upward = page.getByRole('region', { name: 'Upward feedback' });
    const scoreLine = `Your reports rated you ${number(Math.round(scores.byKind.upward.score!))} of 100 in ${cycle.name}.`;
    await upward.getByText(scoreLine, { exact: true }).waitFor();
    // All the section says: its heading, the score, how many reviews, the comments in the API's order; nothing else.
    const lines = (await upward.innerText())
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    expect(lines).toEqual([
      'Upward feedback',
      scoreLine,
      `From ${number(reviewers.length)} reviews, taken together: who gave which answer is not kept.`,
      ...feedback.upward.feedback.map((f) => `“${f}”`),
    ]);
    // No one's own answer: no reviewer named beside it, no single rating shown (the reports are listed, for their retention risk, in a section of their own).
    const section = lines.join('\n');
    for (const reviewer of reviewers) expect(section).not.toContain(reviewer.name);
    for (const level of ['below', 'meets', 'exceeds']) expect(await page.locator('main').innerText()).not.toMatch(new RegExp(`\\b${level}\\b`));
    await checks(page, 'hrm-team-upward');
    await page.context().close();

    // The same in Ukrainian, with no English word around the data.
    const uk = await openPage(browser, server, managerUser, 'hrm/team', { language: 'uk' });
    const region = uk.getByRole('region', { name: 'Відгуки підлеглих' });
    await region.getByText(`Ваші підлеглі оцінили вас на ${new Intl.NumberFormat('uk-UA').format(Math.round(scores.byKind.upward.score!))} зі 100 у циклі «${cycle.name}».`, { exact: true }).waitFor();
    await region.getByText(`Відгуків: ${new Intl.NumberFormat('uk-UA').format(reviewers.length)}, разом: хто що відповів, не зберігається.`, { exact: true }).waitFor();
    expect(await untranslatedWords(uk)).toEqual([]);
    await uk.context().close();
  }, 600_000);

  it('shows HR the internal service scorecard of the IT unit as the API computes it', async () => {
    const hr = persona('hr');
    const session = (await login({ baseUrl: server.url, email: hr.email, password: hr.password })).client;
    const services = ok(await session.GET('/api/v1/hrm/services')).data;
    const units = ok(await session.GET('/api/v1/hrm/units', { params: { query: { limit: 200 } } })).data;
    const providing = new Set(services.map((s) => s.unitId));
    const unit = units.find((u) => providing.has(u.id))!;
    const card = ok(await session.GET('/api/v1/hrm/units/{id}/scorecard', { params: { path: { id: unit.id } } }));
    expect(card.services.length).toBeGreaterThan(0);
    const page = await open(hr, 'hrm/services');
    for (const s of card.services) {
      const row = page.getByRole('row', { name: new RegExp(s.name) });
      const cells = (await row.innerText()).split('\t').map((c) => c.trim());
      expect(cells.slice(0, 4)).toEqual([s.name, number(s.requests), number(s.open), number(s.breached)]);
    }
    const chart = page.getByTestId('service-breach-chart');
    await chart.locator('.recharts-label-list text, .recharts-label').first().waitFor();
    expect(await chart.locator('.recharts-label-list text, .recharts-label').allTextContents()).toEqual(
      card.services.map((s) => number(s.breachRate === null ? 0 : Math.round(s.breachRate * 1000) / 10)),
    );
    await checks(page, 'hrm-service-scorecard');
    await page.context().close();
  }, 600_000);

  it('shows HR the reviews, recruiting and onboarding as the API has them', async () => {
    const hr = persona('hr');
    const session = (await login({ baseUrl: server.url, email: hr.email, password: hr.password })).client;
    const units = ok(await session.GET('/api/v1/hrm/units', { params: { query: { limit: 200 } } })).data;
    const sales = units.find((u) => u.name === 'Sales')!;
    const opening = ok(await session.POST('/api/v1/hrm/openings', { body: { title: `Field engineer ${stamp}`, unitId: sales.id } }));
    ok(await session.POST('/api/v1/hrm/openings/{id}/candidates', { params: { path: { id: opening.id } }, body: { person: { name: `Cara Candidate ${stamp}` } } }));
    ok(
      await session.POST('/api/v1/hrm/onboarding/templates', {
        body: {
          name: `Everyone ${stamp}`,
          items: [
            { title: 'Safety briefing', owner: 'employee', dueDays: 1 },
            { title: 'Meet the team', owner: 'manager', dueDays: 2 },
          ],
        },
      }),
    );
    const newcomer = ok(
      await session.POST('/api/v1/hrm/employees', { body: { person: { name: `Nina Newcomer ${stamp}` }, unitId: sales.id, start: new Date(Date.now() - 86_400_000).toISOString() } }),
    );
    const checklist = ok(await session.GET('/api/v1/hrm/employees/{id}/onboarding', { params: { path: { id: newcomer.id } } }));
    expect(checklist.total).toBeGreaterThan(0);

    const page = await open(hr, 'hrm/hr');
    const cycles = ok(await session.GET('/api/v1/hrm/review-cycles', { params: { query: { limit: 50 } } })).data;
    if (cycles.length === 0) await page.getByText('No review cycle yet.').waitFor();
    else await page.getByRole('combobox', { name: 'Cycle' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'hrm-hr-reviews');

    await page.getByRole('tab', { name: 'Recruiting' }).click();
    const article = page.getByRole('article', { name: opening.title });
    const candidates = ok(await session.GET('/api/v1/hrm/candidates', { params: { query: { limit: 200 } } })).data.filter((c) => c.openingId === opening.id);
    await article.getByText(`Cara Candidate ${stamp}`).waitFor();
    expect(await article.getByRole('row').count()).toBe(candidates.length);
    await article.getByText('Sales', { exact: true }).waitFor();
    const openings = ok(await session.GET('/api/v1/hrm/openings', { params: { query: { status: 'open', limit: 100 } } })).data;
    expect(await page.getByRole('article').count()).toBe(openings.length);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, server, 'hrm-hr-recruiting');

    await page.getByRole('tab', { name: 'Onboarding' }).click();
    await page.getByRole('combobox', { name: 'Employee' }).fill('Nina');
    await page.getByRole('option', { name: newcomer.name }).click();
    await page.getByText(`${number(checklist.done)} of ${number(checklist.total)} done, ${number(checklist.overdue)} overdue`).waitFor();
    for (const item of checklist.items) await page.getByText(item.title, { exact: true }).waitFor();
    await checks(page, 'hrm-hr-onboarding');
    await page.context().close();
  }, 600_000);
});
