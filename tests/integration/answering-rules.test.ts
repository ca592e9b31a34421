/**
 * Answering rules and time frames over the running PBX's REST API: what a user and an admin can set, the
 * preview at any moment in the organization's zone, and bad input refused with a clear error while nothing
 * stored is lost: a range that ends before it starts, rules of equal priority that can match the same moment,
 * another organization's ids. Each change is told to the apps it concerns as the `answering-rules` event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnsweringRule, AnsweringRuleList, RuleDecision, TimeFrame, TimeFrameList } from '../../shared/answering-rules';
import type { ApiError, SessionResponse } from '../../shared/api';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { ensureOrganization } from '../../server/store/organizations';
import { createUser } from '../../server/store/users';
import { TestEventStream } from '../support/events-client';

const DEMO = 'demo.offhook.test';
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];

describe('answering rules on a running PBX', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  let alice: string;
  let bob: string;
  let dana: string;
  let stranger: string;

  async function signIn(extension: string, password: string, organization?: string): Promise<string> {
    const response = await fetch(`${pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password, organization }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as SessionResponse).token;
  }

  async function call<T>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${pbx.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  const ok = async <T>(token: string, method: string, path: string, body?: unknown, status = method === 'POST' ? 201 : 200): Promise<T> => {
    const result = await call<T>(token, method, path, body);
    expect(result.status, JSON.stringify(result.body)).toBe(status);
    return result.body;
  };
  const refused = async (token: string, method: string, path: string, body?: unknown) => {
    const { status, body: error } = await call<ApiError>(token, method, path, body);
    return { status, code: error.error.code, message: error.error.message, field: error.error.field };
  };
  const frame = (token: string, name: string, spec: unknown, scope?: 'user' | 'organization') => ok<TimeFrame>(token, 'POST', '/time-frames', { name, spec, scope });
  const rule = (token: string, name: string, timeFrameId: number, priority: number, action: unknown) => ok<AnsweringRule>(token, 'POST', '/answering-rules', { name, timeFrameId, priority, action });
  const preview = (token: string, at: string) => ok<RuleDecision>(token, 'GET', `/answering-rules/preview?at=${encodeURIComponent(at)}`);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-int-rules-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'no-web-phone') });
    const other = await ensureOrganization(pbx.db, { name: 'Other', domain: 'other.test' });
    await createUser(pbx.db, { organizationId: other.id, extension: '101', displayName: 'Other Alice', password: 'other-101-pw' });
    [alice, bob, dana, stranger] = await Promise.all([signIn('101', 'alice-101', DEMO), signIn('102', 'bob-102', DEMO), signIn('100', 'dana-100', DEMO), signIn('101', 'other-101-pw', 'other.test')]);
  });

  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an admin sets the time zone and business hours; users use them and see which rule applies when', async () => {
    expect(await ok(alice, 'GET', '/organization/time-zone')).toEqual({ timeZone: 'UTC' });
    expect(await refused(alice, 'PUT', '/organization/time-zone', { timeZone: 'Europe/Berlin' })).toMatchObject({ status: 403, code: 'forbidden' });
    expect(await refused(dana, 'PUT', '/organization/time-zone', { timeZone: 'Mars/Olympus' })).toMatchObject({ status: 400, field: 'timeZone' });
    await ok(dana, 'PUT', '/organization/time-zone', { timeZone: 'America/New_York' });

    expect(await refused(alice, 'POST', '/time-frames', { name: 'Office', scope: 'organization', spec: { type: 'always' } })).toMatchObject({ status: 403 });
    const hours = await frame(dana, 'Business hours', { type: 'weekly', ranges: [{ days: WEEKDAYS, start: '09:00', end: '17:00' }] }, 'organization');
    const holidays = await frame(dana, 'Holidays', { type: 'dates', ranges: [{ start: '2026-12-24', end: '2026-12-26' }] }, 'organization');
    const always = await frame(alice, 'Always', { type: 'always' });
    expect((await ok<TimeFrameList>(alice, 'GET', '/time-frames')).timeFrames.map((f) => `${f.name} ${f.scope}`)).toEqual(['Business hours organization', 'Holidays organization', 'Always user']);
    expect((await ok<TimeFrameList>(bob, 'GET', '/time-frames')).timeFrames.map((f) => f.name)).toEqual(['Business hours', 'Holidays']);

    const closed = await rule(alice, 'Holidays', holidays.id, 1, { type: 'do-not-disturb', then: 'voicemail' });
    const office = await rule(alice, 'Office', hours.id, 2, { type: 'ring', ringSeconds: 20, alsoRing: [{ type: 'user', extension: '102' }], whenNotAnswered: { type: 'user', extension: '103' } });
    const otherwise = await rule(alice, 'Otherwise', always.id, 3, { type: 'forward', to: { type: 'number', number: '+15551234567' } });

    // Thursday 2026-12-10, 09:30 in New York (14:30 UTC): office hours.
    const atWork = await preview(alice, '2026-12-10T14:30:00Z');
    expect(atWork).toMatchObject({ rule: { id: office.id, name: 'Office', priority: 2 }, localTime: '2026-12-10T09:30', timeZone: 'America/New_York' });
    expect(atWork.summary).toBe('Rings your devices and extension 102 for 20 s; when not answered, extension 103; when busy, voicemail; when unreachable, voicemail.');
    // The same moment written with an offset; 08:59 local is before hours.
    expect((await preview(alice, '2026-12-10T09:30:00-05:00')).rule?.id).toBe(office.id);
    expect((await preview(alice, '2026-12-10T13:59:00Z')).rule?.id).toBe(otherwise.id);
    // Christmas Eve is a Thursday too, but the holiday rule comes first.
    expect((await preview(alice, '2026-12-24T14:30:00Z')).summary).toBe('Do not disturb: calls go straight to voicemail.');
    expect((await preview(alice, '2026-12-24T14:30:00Z')).rule?.id).toBe(closed.id);
    // Bob has no rules: his phones ring, then voicemail.
    expect((await preview(bob, '2026-12-10T14:30:00Z')).rule).toBeNull();

    const list = await ok<AnsweringRuleList>(alice, 'GET', '/answering-rules');
    expect(list.rules.map((r) => r.name)).toEqual(['Holidays', 'Office', 'Otherwise']);
    expect(list.timeZone).toBe('America/New_York');
    expect([closed.id, office.id, otherwise.id]).toContain(list.activeRuleId);

    // Reordered: "Otherwise" first, so it applies at all times.
    const reordered = await ok<{ rules: AnsweringRule[] }>(alice, 'PUT', '/answering-rules/order', { ids: [otherwise.id, closed.id, office.id] });
    expect(reordered.rules.map((r) => `${r.priority} ${r.name}`)).toEqual(['1 Otherwise', '2 Holidays', '3 Office']);
    expect((await preview(alice, '2026-12-10T14:30:00Z')).rule?.id).toBe(otherwise.id);
    expect((await ok<AnsweringRuleList>(alice, 'GET', '/answering-rules')).activeRuleId).toBe(otherwise.id);
    expect(await refused(alice, 'PUT', '/answering-rules/order', { ids: [otherwise.id, closed.id] })).toMatchObject({ status: 400, field: 'ids' });

    // Disabled, it no longer applies; deleted, it is gone and its frame may go too.
    await ok(alice, 'PUT', `/answering-rules/${otherwise.id}`, { name: 'Otherwise', timeFrameId: always.id, priority: 1, enabled: false, action: { type: 'forward', to: { type: 'voicemail' } } });
    expect((await preview(alice, '2026-12-10T14:30:00Z')).rule?.id).toBe(office.id);
    expect(await refused(alice, 'DELETE', `/time-frames/${always.id}`)).toMatchObject({ status: 409, code: 'in_use' });
    expect((await call(alice, 'DELETE', `/answering-rules/${otherwise.id}`)).status).toBe(204);
    expect((await call(alice, 'DELETE', `/time-frames/${always.id}`)).status).toBe(204);
    expect(await refused(alice, 'DELETE', `/time-frames/${hours.id}`)).toMatchObject({ status: 403 });
    expect(await refused(dana, 'DELETE', `/time-frames/${hours.id}`)).toMatchObject({ status: 409, message: 'The time frame "Business hours" is used by rules of 1 user: change or delete those rules first.' });
  });

  it('refuses a time frame that ends before it starts, saying where, and keeps the frame as it was', async () => {
    const backwards = await refused(bob, 'POST', '/time-frames', { name: 'Evening', spec: { type: 'weekly', ranges: [{ days: ['mon'], start: '22:00', end: '06:00' }] } });
    expect(backwards).toEqual({
      status: 400,
      code: 'invalid_request',
      field: 'spec.ranges.0.end',
      message: 'spec.ranges.0.end: the range ends (06:00) before it starts (22:00); write a range past midnight as two ranges',
    });
    const dates = await refused(bob, 'POST', '/time-frames', { name: 'Trip', spec: { type: 'dates', ranges: [{ start: '2026-08-10', end: '2026-08-01' }] } });
    expect(dates).toMatchObject({ status: 400, message: 'spec.ranges.0.end: the range ends (2026-08-01) before it starts (2026-08-10)' });
    const evening = await frame(bob, 'Evening', { type: 'weekly', ranges: [{ days: ['mon'], start: '18:00', end: '22:00' }] });
    expect(await refused(bob, 'PUT', `/time-frames/${evening.id}`, { name: 'Evening', spec: { type: 'weekly', ranges: [{ days: ['mon'], start: '22:00', end: '18:00' }] } })).toMatchObject({ status: 400 });
    expect((await ok<TimeFrameList>(bob, 'GET', '/time-frames')).timeFrames.find((f) => f.id === evening.id)).toEqual(evening);
  });

  it('refuses rules of equal priority that can match the same moment, by a new rule, an edit or a changed frame', async () => {
    const mornings = await frame(bob, 'Mornings', { type: 'weekly', ranges: [{ days: WEEKDAYS, start: '08:00', end: '12:00' }] });
    const lunch = await frame(bob, 'Lunch', { type: 'weekly', ranges: [{ days: ['mon'], start: '12:00', end: '13:00' }] });
    const first = await rule(bob, 'Mornings', mornings.id, 5, { type: 'forward', to: { type: 'voicemail' } });
    // Same priority, frames that never meet: allowed.
    const second = await rule(bob, 'Lunch', lunch.id, 5, { type: 'do-not-disturb', then: 'busy' });
    const overlapping = await frame(bob, 'Late mornings', { type: 'weekly', ranges: [{ days: ['mon'], start: '11:00', end: '12:30' }] });
    const conflict = await refused(bob, 'POST', '/answering-rules', { name: 'Late', timeFrameId: overlapping.id, priority: 5, action: { type: 'forward', to: { type: 'voicemail' } } });
    expect(conflict).toEqual({
      status: 409,
      code: 'priority_conflict',
      field: 'priority',
      message: 'Rules "Mornings" and "Late" both have priority 5, and their time frames ("Mornings", "Late mornings") can match the same moment: give one of them another priority.',
    });
    expect(await refused(bob, 'PUT', `/answering-rules/${second.id}`, { name: 'Lunch', timeFrameId: mornings.id, priority: 5, action: { type: 'forward', to: { type: 'voicemail' } } })).toMatchObject({ status: 409 });
    // Stretching lunch into the morning would make the two collide.
    expect(await refused(bob, 'PUT', `/time-frames/${lunch.id}`, { name: 'Lunch', spec: { type: 'weekly', ranges: [{ days: ['mon'], start: '11:30', end: '13:00' }] } })).toMatchObject({ status: 409, code: 'priority_conflict' });
    const kept = await ok<AnsweringRuleList>(bob, 'GET', '/answering-rules');
    expect(kept.rules.map((r) => [r.id, r.name, r.timeFrameId])).toEqual([[first.id, 'Mornings', mornings.id], [second.id, 'Lunch', lunch.id]]);
    expect((await ok<TimeFrameList>(bob, 'GET', '/time-frames')).timeFrames.find((f) => f.id === lunch.id)).toEqual(lunch);
  });

  it("answers 404 for another organization's or another user's ids, and changes nothing of theirs", async () => {
    const mine = await frame(alice, 'Mine', { type: 'always' });
    const theirs = await frame(stranger, 'Theirs', { type: 'always' });
    const theirRule = await rule(stranger, 'Theirs', theirs.id, 1, { type: 'forward', to: { type: 'voicemail' } });
    const action = { type: 'forward', to: { type: 'voicemail' } };
    expect(await refused(alice, 'POST', '/answering-rules', { name: 'x', timeFrameId: theirs.id, priority: 50, action })).toMatchObject({ status: 404, field: 'timeFrameId' });
    expect(await refused(bob, 'POST', '/answering-rules', { name: 'x', timeFrameId: mine.id, priority: 50, action })).toMatchObject({ status: 404 });
    expect(await refused(alice, 'PUT', `/time-frames/${theirs.id}`, { name: 'Mine now', spec: { type: 'always' } })).toMatchObject({ status: 404 });
    expect(await refused(alice, 'DELETE', `/time-frames/${theirs.id}`)).toMatchObject({ status: 404 });
    expect(await refused(alice, 'PUT', `/answering-rules/${theirRule.id}`, { name: 'x', timeFrameId: mine.id, priority: 50, action })).toMatchObject({ status: 404 });
    expect(await refused(alice, 'DELETE', `/answering-rules/${theirRule.id}`)).toMatchObject({ status: 404 });
    expect(await refused(alice, 'DELETE', '/answering-rules/not-a-number')).toMatchObject({ status: 404 });
    // Extension 102 of the other organization is no one to Alice's own.
    const forward = { type: 'forward', to: { type: 'user', extension: '102' } };
    expect(await refused(stranger, 'POST', '/answering-rules', { name: 'x', timeFrameId: theirs.id, priority: 9, action: forward })).toEqual({
      status: 400,
      code: 'invalid',
      field: 'action.to.extension',
      message: 'There is no extension 102 in your organization.',
    });
    expect(await refused(dana, 'PUT', '/answering-rules/order', { ids: [theirRule.id] })).toMatchObject({ status: 404 });
    expect((await ok<AnsweringRuleList>(stranger, 'GET', '/answering-rules')).rules).toEqual([theirRule]);
    expect((await ok<TimeFrameList>(stranger, 'GET', '/time-frames')).timeFrames).toEqual([theirs]);
    expect((await ok<RuleDecision>(stranger, 'GET', '/answering-rules/preview?at=2026-12-10T14:30:00Z')).timeZone).toBe('UTC');
  });

  it("tells the user's apps of each change to their rules and frames, and every app of the organization of its own", async () => {
    const streams = await Promise.all([alice, bob, dana, stranger].map((token) => TestEventStream.open(pbx.httpUrl, token)));
    try {
      await Promise.all(streams.map((stream) => stream.ready()));
      const [aliceApp, bobApp, danaApp, strangerApp] = streams as [TestEventStream, TestEventStream, TestEventStream, TestEventStream];
      const told = (app: TestEventStream) => app.events().filter((m) => m.event.type === 'answering-rules').length;
      const until = (app: TestEventStream, count: number) => app.until(() => told(app) >= count, `${count} answering-rules events`);

      // Alice's own: a frame, a rule, its edit, a move, its deletion; a refusal changes nothing and tells nobody.
      const lunch = await frame(alice, 'Lunch', { type: 'weekly', ranges: [{ days: WEEKDAYS, start: '12:00', end: '13:00' }] });
      const away = await rule(alice, 'Away at lunch', lunch.id, 40, { type: 'forward', to: { type: 'voicemail' } });
      expect(await refused(alice, 'POST', '/answering-rules', { name: 'Clash', timeFrameId: lunch.id, priority: 40, action: { type: 'forward', to: { type: 'voicemail' } } })).toMatchObject({ status: 409 });
      await ok(alice, 'PUT', `/answering-rules/${away.id}`, { name: 'Away at lunch', timeFrameId: lunch.id, priority: 41, action: { type: 'forward', to: { type: 'voicemail' } } });
      const order = (await ok<AnsweringRuleList>(alice, 'GET', '/answering-rules')).rules.map((r) => r.id);
      await ok(alice, 'PUT', '/answering-rules/order', { ids: [away.id, ...order.filter((id) => id !== away.id)] });
      expect((await call(alice, 'DELETE', `/answering-rules/${away.id}`)).status).toBe(204);
      await until(aliceApp, 5);
      // Told before the change was answered: nothing more is on its way.
      expect(told(aliceApp)).toBe(5);

      // The organization's zone and frames: every user of it, nobody else.
      await ok(dana, 'PUT', '/organization/time-zone', { timeZone: 'Europe/Berlin' });
      const closing = await frame(dana, 'Closing', { type: 'dates', ranges: [{ start: '2026-12-31', end: '2026-12-31' }] }, 'organization');
      await Promise.all([until(aliceApp, 7), until(bobApp, 2), until(danaApp, 2)]);
      expect(aliceApp.events().at(-1)?.event).toEqual({ type: 'answering-rules' });
      expect([told(aliceApp), told(bobApp), told(danaApp), told(strangerApp)]).toEqual([7, 2, 2, 0]);
      expect((await call(dana, 'DELETE', `/time-frames/${closing.id}`)).status).toBe(204);
      await Promise.all([until(aliceApp, 8), until(bobApp, 3), until(danaApp, 3)]);
      expect(told(strangerApp)).toBe(0);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('refuses a preview without a time, and everything without a session', async () => {
    expect(await refused(alice, 'GET', '/answering-rules/preview?at=tomorrow')).toMatchObject({ status: 400, field: 'at' });
    expect((await fetch(`${pbx.httpUrl}/api/v1/answering-rules`)).status).toBe(401);
  });
});
