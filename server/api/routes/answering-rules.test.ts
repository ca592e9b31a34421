import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnsweringRuleList, TimeFrame } from '../../../shared/answering-rules';
import { openTestApi } from '../test-support';
import type { TestApi } from '../test-support';

describe('the active answering rule on an injected clock', () => {
  let api: TestApi;
  let now = Date.parse('2026-12-07T09:30:00Z');

  beforeEach(async () => {
    api = await openTestApi({ now: () => now });
  });
  afterEach(() => api.close());

  it('moves as the clock does, in the organization zone', async () => {
    const alice = await api.tokenFor('101', 'alice-101');
    const admin = await api.tokenFor('100', 'dana-100');
    const send = async <T>(token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
      const response = await api.app.inject({ method, url: `/api/v1${url}`, payload, headers: { authorization: `Bearer ${token}` } });
      expect(response.statusCode, response.body).toBeLessThan(300);
      return response.json() as T;
    };
    await send(admin, 'PUT', '/organization/time-zone', { timeZone: 'Europe/Berlin' });
    const mornings = await send<TimeFrame>(alice, 'POST', '/time-frames', { name: 'Mornings', spec: { type: 'weekly', ranges: [{ days: ['mon'], start: '09:00', end: '12:00' }] } });
    const rule = await send<{ id: number }>(alice, 'POST', '/answering-rules', { name: 'Mornings', timeFrameId: mornings.id, priority: 1, action: { type: 'forward', to: { type: 'voicemail' } } });
    // Monday 09:30 UTC is 10:30 in Berlin; 11:30 UTC is 12:30 there.
    expect((await send<AnsweringRuleList>(alice, 'GET', '/answering-rules')).activeRuleId).toBe(rule.id);
    now = Date.parse('2026-12-07T11:30:00Z');
    expect(await send<AnsweringRuleList>(alice, 'GET', '/answering-rules')).toMatchObject({ activeRuleId: null, timeZone: 'Europe/Berlin' });
  });
});
