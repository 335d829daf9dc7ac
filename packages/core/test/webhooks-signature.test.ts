import { EventEmitter2 } from 'eventemitter2';
import { describe, expect, it } from 'vitest';
import { isEventPattern, matchesEventPattern, signWebhookPayload, verifyWebhookSignature } from '@rapport/core';
import { createHmac } from 'node:crypto';
import { retryDelayMs } from '../src/webhooks/delivery.js';

const secret = 'whsec_test-secret';
const body = JSON.stringify({ id: '0190f7a2-0000-7000-8000-000000000001', name: 'party.created', payload: { party: { name: 'Acme' } } });

describe('webhook signatures', () => {
  it('signs "<t>.<body>" with HMAC-SHA256 and verifies it', () => {
    const header = signWebhookPayload({ secret, body, timestamp: 1_700_000_000 });
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(header).toBe(`t=1700000000,v1=${expected}`);
    expect(verifyWebhookSignature({ secret, header, body, now: 1_700_000_000_000 })).toBe(true);
    expect(verifyWebhookSignature({ secret, header, body: Buffer.from(body), now: new Date(1_700_000_010_000) })).toBe(true);
  });

  it('rejects a tampered body, a wrong secret and a forged signature', () => {
    const header = signWebhookPayload({ secret, body });
    expect(verifyWebhookSignature({ secret, header, body: body.replace('Acme', 'Evil') })).toBe(false);
    expect(verifyWebhookSignature({ secret: 'whsec_other', header, body })).toBe(false);
    const t = header.split(',')[0];
    expect(verifyWebhookSignature({ secret, header: `${t},v1=${'0'.repeat(64)}`, body })).toBe(false);
    // Changing the timestamp breaks the signature even within tolerance.
    const otherT = Number(t.slice(2)) - 1;
    expect(verifyWebhookSignature({ secret, header: header.replace(t, `t=${otherT}`), body })).toBe(false);
  });

  it('rejects stale and future timestamps beyond the tolerance', () => {
    const t = 1_700_000_000;
    const header = signWebhookPayload({ secret, body, timestamp: t });
    expect(verifyWebhookSignature({ secret, header, body, now: (t + 301) * 1000 })).toBe(false);
    expect(verifyWebhookSignature({ secret, header, body, now: (t - 301) * 1000 })).toBe(false);
    expect(verifyWebhookSignature({ secret, header, body, now: (t + 300) * 1000 })).toBe(true);
    expect(verifyWebhookSignature({ secret, header, body, now: (t + 3600) * 1000, toleranceSeconds: 7200 })).toBe(true);
  });

  it('rejects missing and malformed headers', () => {
    for (const header of [undefined, null, '', 'v1=abc', 't=abc,v1=00', 't=1700000000', 'garbage', 'x'.repeat(2000)]) {
      expect(verifyWebhookSignature({ secret, header, body, now: 1_700_000_000_000 })).toBe(false);
    }
  });

  it('accepts the header when one of several v1 signatures matches', () => {
    const header = signWebhookPayload({ secret, body, timestamp: 1_700_000_000 });
    const [t, v1] = header.split(',');
    expect(verifyWebhookSignature({ secret, header: `${t},v1=${'a'.repeat(64)},${v1}`, body, now: 1_700_000_000_000 })).toBe(true);
  });
});

describe('event patterns', () => {
  const names = ['party', 'party.created', 'party.x.created', 'crm.deal.won', 'crm.deal', 'a.z', 'a.b.z', 'a.b.c.z', 'x.created', 'sample.ticket.opened'];
  const patterns = ['**', 'party.**', 'party.*', '*.created', 'a.**.z', '**.created', '*', 'crm.deal.*', 'crm.*.won', 'party.created', 'sample.**'];

  it('matches like the in-process bus (eventemitter2)', () => {
    for (const pattern of patterns) {
      const emitter = new EventEmitter2({ wildcard: true, delimiter: '.' });
      const heard: string[] = [];
      emitter.on(pattern, function (this: { event: string }) {
        heard.push(this.event);
      });
      for (const name of names) emitter.emit(name);
      expect(
        names.filter((name) => matchesEventPattern(pattern, name)),
        pattern,
      ).toEqual(heard);
    }
  });

  it('matches the documented examples', () => {
    expect(matchesEventPattern('party.*', 'party.created')).toBe(true);
    expect(matchesEventPattern('party.*', 'party.x.created')).toBe(false);
    expect(matchesEventPattern('crm.deal.*', 'crm.deal.won')).toBe(true);
    expect(matchesEventPattern('crm.deal.*', 'crm.deals.won')).toBe(false);
    expect(matchesEventPattern('**', 'anything.at.all')).toBe(true);
  });

  it('validates pattern syntax', () => {
    for (const ok of ['party.created', 'party.*', '**', 'crm.**', 'sample.ticket.opened', 'webhook.secret-rotated', 'a_b.c']) expect(isEventPattern(ok), ok).toBe(true);
    for (const bad of ['', 'party.', '.party', 'party..created', 'par*ty', '***', 'party created', 'party.*x', 'x'.repeat(201)]) expect(isEventPattern(bad), bad).toBe(false);
  });
});

describe('retry schedule', () => {
  it('doubles from the base with ±20 % jitter', () => {
    expect(retryDelayMs(1, 1000, () => 0.5)).toBe(1000);
    expect(retryDelayMs(2, 1000, () => 0.5)).toBe(2000);
    expect(retryDelayMs(4, 1000, () => 0.5)).toBe(8000);
    expect(retryDelayMs(3, 1000, () => 0)).toBe(3200);
    expect(retryDelayMs(3, 1000, () => 0.999999)).toBeLessThanOrEqual(4800);
  });
});
