import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapport, type Rapport } from '@rapport/core';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import { DEAL_WON_RULE, SUPPLIER_ON_TIME_RULE } from '../src/seed/automation.js';

/** Polls until `check` passes (the engine works after commit, in the background). */
async function eventually<T>(check: () => Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`${what}: ${(last as Error)?.message}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('automation rules: the full-suite examples', () => {
  let t: TestApp;
  let account: string;
  let owner: string;
  let rep: string;
  let supply: string;
  let pipeline: { id: string; stages: Array<{ id: string; name: string }> };
  const rules: Record<string, string> = {};

  const runsOf = (ruleId: string) => t.app.knex('rapport_automation_runs').where({ rule_id: ruleId }).orderBy('id').select('event_id', 'event_name', 'status', 'depth', 'error');
  const tasksOf = (dealId: string) => t.app.knex('crm_tasks').where({ deal_id: dealId }).select('id', 'title', 'assignee_party_id');
  const reviewsOf = (relationshipId: string) => t.app.knex('rapport_interactions').where({ relationship_id: relationshipId, type: 'prm.supplier-review' }).select('id', 'subject');
  const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;

  const winDeal = async (title: string) => {
    const deal = await t.admin.post('/api/v1/crm/deals', { title, pipelineId: pipeline.id, amount: 1000, currency: 'EUR', accountId: account, ownerPartyId: rep });
    expect(deal.status).toBe(201);
    expect((await t.admin.post(`/api/v1/crm/deals/${deal.body.id}/move`, { stageId: stage('Won') })).status).toBe(200);
    return deal.body.id as string;
  };
  const onTime = async (value: number) => {
    const res = await t.admin.post('/api/v1/observations', { indicator: 'prm.on-time-delivery', subjectId: supply, value });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  beforeAll(async () => {
    t = await createTestApp({ plugins: [crm, prm] });
    const party = async (kind: string, name: string, attributes?: Record<string, unknown>) => (await t.admin.post('/api/v1/parties', { kind, name, attributes })).body.id as string;
    owner = await party('person', 'Olga Owner');
    rep = await party('person', 'Rita Rep');
    account = await party('organization', 'Acme Foods', { 'crm.owner': owner });
    const supplier = await party('organization', 'Bolt Supplies');
    supply = (await t.admin.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: supplier, toPartyId: t.selfPartyId })).body.id;
    pipeline = (await t.admin.post('/api/v1/crm/pipelines', { name: 'New business', stages: [{ name: 'Qualify' }, { name: 'Won', outcome: 'won' }, { name: 'Lost', outcome: 'lost' }] })).body;
    for (const rule of [DEAL_WON_RULE, SUPPLIER_ON_TIME_RULE]) {
      const res = await t.admin.post('/api/v1/automation/rules', rule);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      rules[rule.name] = res.body.id;
    }
  });
  afterAll(() => t?.close());

  it('deal won → an onboarding task for the account owner and a note telling them; on-time below 90 % → a review', async () => {
    const dealId = await winDeal('Line 4 retrofit');
    const low = await onTime(82.5);
    await onTime(97);
    const [task] = await eventually(async () => {
      const found = await tasksOf(dealId);
      expect(found).toHaveLength(1);
      return found;
    }, 'the onboarding task');
    expect(task).toMatchObject({ title: 'Onboarding: Line 4 retrofit', assignee_party_id: owner });
    const reviews = await eventually(async () => {
      const found = await reviewsOf(supply);
      expect(found).toHaveLength(1);
      return found;
    }, 'the supplier review');
    expect(reviews[0].subject).toBe('On-time delivery at 82.5 % — review the supplier');
    const notes = await t.admin.get(`/api/v1/parties/${owner}/timeline?type=note`);
    expect(notes.body.data.map((n: any) => n.subject)).toContain('Deal won — onboarding task opened: Line 4 retrofit');

    // The run log says what each rule did and why it did nothing on the good figure.
    const runs = await eventually(async () => {
      const res = await t.admin.get(`/api/v1/automation/rules/${rules[SUPPLIER_ON_TIME_RULE.name]}/runs`);
      expect(res.body.data.every((r: any) => r.status !== 'pending')).toBe(true);
      expect(res.body.data).toHaveLength(2);
      return res.body.data;
    }, 'the supplier rule’s runs');
    expect(runs.map((r: any) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    expect(runs.find((r: any) => r.status === 'succeeded')).toMatchObject({ eventName: 'observation.created', outcome: { actions: [{ type: 'create-interaction', interactionId: reviews[0].id }] } });
    expect(runs.find((r: any) => r.status === 'skipped').outcome).toEqual({ reason: 'the conditions do not hold' });
    const low_event = (await t.outbox({ name: 'observation.created' })).find((e) => e.payload.observation.id === low)!;
    expect(runs.find((r: any) => r.status === 'succeeded').eventId).toBe(low_event.id);
  });

  it('fires once per event across a restart and a duplicate delivery', async () => {
    // This node stops running rules: the events below are handed over (runs queued), not run.
    await t.app.automation.stop();
    const dealId = await winDeal('Spare parts contract');
    await onTime(70);
    const wonEvent = await eventually(async () => {
      const event = (await t.outbox({ name: 'crm.deal.won' })).find((e) => e.payload.deal.id === dealId);
      expect(event).toBeDefined();
      const runs = await t.app.knex('rapport_automation_runs').where({ event_id: event!.id });
      expect(runs.map((r) => r.status)).toEqual(['pending']);
      return event!;
    }, 'the queued run');
    await t.app.dispatcher.stop();
    expect(await tasksOf(dealId)).toHaveLength(0);

    // Another process on the same database (a restart) runs what was queued, once.
    const restarted: Rapport = await createRapport({
      logLevel: 'silent',
      database: t.app.config.database,
      plugins: [crm, prm],
      scheduler: { enabled: false },
      dispatcher: { pollIntervalMs: 50, allowPrivateNetworks: true },
      automation: { pollIntervalMs: 50 },
    });
    try {
      await eventually(async () => {
        expect(await tasksOf(dealId)).toHaveLength(1);
        expect(await reviewsOf(supply)).toHaveLength(2);
        const pending = await restarted.knex('rapport_automation_runs').where({ status: 'pending' });
        expect(pending).toHaveLength(0);
      }, 'the runs after the restart');

      // The outbox hands every event over again (a crash between fan-out and commit elsewhere, a replay).
      await restarted.knex('rapport_outbox').update({ dispatched_at: null });
      restarted.dispatcher.nudge();
      await eventually(async () => {
        expect(await restarted.knex('rapport_outbox').whereNull('dispatched_at')).toHaveLength(0);
      }, 'the second hand-over');
      await restarted.automation.tick();
      expect(await tasksOf(dealId)).toHaveLength(1);
      expect(await reviewsOf(supply)).toHaveLength(2);
      const wonRuns = await runsOf(rules[DEAL_WON_RULE.name]);
      expect(wonRuns.filter((r) => r.event_id === wonEvent.id)).toEqual([{ event_id: wonEvent.id, event_name: 'crm.deal.won', status: 'succeeded', depth: 0, error: null }]);
      // One run per rule and event, whatever the rule: nothing doubled.
      const all = await restarted.knex('rapport_automation_runs').select('rule_id', 'event_id');
      expect(new Set(all.map((r) => `${r.rule_id}:${r.event_id}`)).size).toBe(all.length);
    } finally {
      // Closing the second system on PGlite would close the one shared instance: stop its background work only.
      if (t.kind === 'postgres') await restarted.close();
      else {
        await restarted.automation.stop();
        await restarted.dispatcher.stop();
      }
      t.app.dispatcher.start();
      t.app.automation.start();
    }
  });

  it('dry-runs a rule against a past event: shows what it would do, changes nothing', async () => {
    const event = (await t.outbox({ name: 'crm.deal.won' }))[0];
    const count = async () => ({
      tasks: Number((await t.app.knex('crm_tasks').count<{ c: string }[]>('* as c'))[0].c),
      interactions: Number((await t.app.knex('rapport_interactions').count<{ c: string }[]>('* as c'))[0].c),
      runs: Number((await t.app.knex('rapport_automation_runs').count<{ c: string }[]>('* as c'))[0].c),
      outbox: Number((await t.app.knex('rapport_outbox').count<{ c: string }[]>('* as c'))[0].c),
    });
    const before = await count();
    const res = await t.admin.post(`/api/v1/automation/rules/${rules[DEAL_WON_RULE.name]}/dry-run`, { eventId: event.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ eventId: event.id, eventName: 'crm.deal.won', triggerMatches: true, conditionsHold: true, alreadyRun: true });
    expect(res.body.actions[0]).toEqual({
      type: 'crm.create-task',
      params: { title: 'Onboarding: Line 4 retrofit', accountId: account, dealId: event.payload.deal.id, assignToAccountOwner: true, dueInDays: 7 },
      problem: null,
    });
    expect(res.body.actions[1]).toMatchObject({ type: 'create-interaction', params: { interactionType: 'note', partyIds: [null, account] }, problem: null });
    const other = await t.admin.post(`/api/v1/automation/rules/${rules[SUPPLIER_ON_TIME_RULE.name]}/dry-run`, { eventId: event.id });
    expect(other.body).toMatchObject({ triggerMatches: false, actions: [] });
    expect(await count()).toEqual(before);
    expect((await t.admin.post(`/api/v1/automation/rules/${rules[DEAL_WON_RULE.name]}/dry-run`, { eventId: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
  });

  it('stops a rule that retriggers itself at the loop guard’s depth', async () => {
    const loop = await t.admin.post('/api/v1/automation/rules', {
      name: 'Echo notes',
      trigger: { event: 'interaction.created' },
      conditions: { '==': [{ var: 'payload.interaction.subject' }, 'echo'] },
      actions: [{ type: 'create-interaction', params: { interactionType: 'note', subject: 'echo', partyIds: [{ var: 'payload.interaction.participants.0.partyId' }] } }],
    });
    expect(loop.status).toBe(201);
    await t.admin.post('/api/v1/interactions', { type: 'note', subject: 'echo', direction: 'internal', participants: [{ partyId: account, role: 'subject' }] });
    const runs = await eventually(async () => {
      const found = await runsOf(loop.body.id);
      expect(found.filter((r) => r.status === 'skipped' && r.error?.startsWith('loop guard'))).toHaveLength(1);
      return found;
    }, 'the loop guard');
    // The first event is nobody's rule (depth 0); depths 1 and 2 are the rule's own writes; depth 3 is stopped.
    expect(runs.map((r) => [r.depth, r.status])).toEqual([
      [0, 'succeeded'],
      [1, 'succeeded'],
      [2, 'succeeded'],
      [3, 'skipped'],
    ]);
    const echoes = await t.app.knex('rapport_interactions').where({ subject: 'echo' }).count<{ c: string }[]>('* as c');
    expect(Number(echoes[0].c)).toBe(4);
    await t.admin.patch(`/api/v1/automation/rules/${loop.body.id}`, { enabled: false }, { headers: { 'if-match': '"1"' } });
  });

  it('runs a scheduled rule once per slot, however often the scheduler looks', async () => {
    const rule = await t.admin.post('/api/v1/automation/rules', {
      name: 'Weekly account check',
      trigger: { schedule: { everyMinutes: 10_080 } },
      actions: [{ type: 'create-interaction', params: { interactionType: 'note', subject: { cat: ['Weekly check ', { var: 'payload.scheduledAt' }] }, partyIds: [account] } }],
    });
    expect(rule.status).toBe(201);
    expect(await t.app.scheduler.runNow('core.automation.schedule')).toEqual({ status: 'succeeded' });
    expect(await t.app.scheduler.runNow('core.automation.schedule')).toEqual({ status: 'succeeded' });
    const runs = await eventually(async () => {
      const found = await runsOf(rule.body.id);
      expect(found.map((r) => r.status)).toEqual(['succeeded']);
      return found;
    }, 'the scheduled run');
    expect(runs[0].event_name).toBe('automation.schedule');
    const notes = await t.app.knex('rapport_interactions').where('subject', 'like', 'Weekly check %').select('subject');
    expect(notes).toHaveLength(1);
    await t.admin.delete(`/api/v1/automation/rules/${rule.body.id}`);
  });

  it('refuses a bad rule with 400 naming the part', async () => {
    const base = { name: 'Bad', trigger: { event: 'crm.deal.won' }, actions: [{ type: 'create-interaction', params: { interactionType: 'note', partyIds: [] } }] };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, trigger: { event: 'crm..won' } }, 'trigger.event'],
      [{ ...base, conditions: { method: [{ var: 'payload' }, 'constructor'] } }, 'conditions'],
      [{ ...base, conditions: { and: [true, { eval: ['1'] }] } }, 'conditions.and[1]'],
      [{ ...base, actions: [{ type: 'send-fax', params: {} }] }, 'actions[0].type'],
      [{ ...base, actions: [{ type: 'create-interaction', params: { interactionType: 'note', colour: 'red' } }] }, 'actions[0].params.colour'],
      [{ ...base, actions: [{ type: 'create-interaction', params: { subject: 'x' } }] }, 'actions[0].params.interactionType'],
      [{ ...base, actions: [{ type: 'crm.create-task', params: { title: 'x', dueInDays: 'soon' } }] }, 'actions[0].params.dueInDays'],
    ];
    for (const [body, part] of cases) {
      const res = await t.admin.post('/api/v1/automation/rules', body);
      expect(res.status, part).toBe(400);
      expect(
        res.body.errors.map((e: any) => e.path),
        part,
      ).toContain(part);
    }
    expect((await t.admin.post('/api/v1/automation/rules', { ...base, trigger: { schedule: { everyMinutes: 0 } } })).status).toBe(400);
  });

  it('needs automation:read to read rules and automation:manage to change them; scoped principals get neither', async () => {
    await t.admin.post('/api/v1/roles', { name: 'rule-reader', permissions: ['automation:read'] });
    await t.admin.post('/api/v1/roles', { name: 'nobody', permissions: ['parties:read'] });
    const reader: TestClient = await t.clientFor({ roles: ['rule-reader'] });
    const nobody: TestClient = await t.clientFor({ roles: ['nobody'] });
    const scoped: TestClient = await t.clientFor({ roles: ['admin'], scopePartyId: account });
    const id = rules[DEAL_WON_RULE.name];
    expect((await reader.get('/api/v1/automation/rules')).status).toBe(200);
    expect((await reader.get(`/api/v1/automation/rules/${id}/runs`)).status).toBe(200);
    expect((await reader.post('/api/v1/automation/rules', DEAL_WON_RULE)).status).toBe(403);
    expect((await reader.delete(`/api/v1/automation/rules/${id}`)).status).toBe(403);
    expect((await nobody.get('/api/v1/automation/rules')).status).toBe(403);
    expect((await scoped.get('/api/v1/automation/rules')).status).toBe(403);
    expect((await scoped.post('/api/v1/automation/rules', DEAL_WON_RULE)).status).toBe(403);
  });
});
