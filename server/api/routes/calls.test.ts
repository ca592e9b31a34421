import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallHistoryPage } from '../../../shared/api';
import { insertCallRecord } from '../../store/call-records';
import { ensureOrganization } from '../../store/organizations';
import { createUser } from '../../store/users';
import { openTestApi } from '../test-support';
import type { TestApi } from '../test-support';

describe('GET /api/v1/calls', () => {
  let api: TestApi;
  let store: TestApi['store'];
  let app: TestApi['app'];
  let orgId: number;
  const tokenFor = (extension: string, password: string, organization?: string) => api.tokenFor(extension, password, organization);

  beforeEach(async () => {
    api = await openTestApi();
    ({ store, app, organizationId: orgId } = api);
  });

  afterEach(() => api.close());

  async function record(callerExt: string, callerName: string, calleeExt: string, calleeName: string, how: 'answered' | 'missed' | 'declined', startedAt: string, organizationId = orgId) {
    const started = Date.parse(startedAt);
    return insertCallRecord(store.db, {
      organization_id: organizationId,
      call_id: `c-${Math.random()}`,
      caller_extension: callerExt,
      caller_name: callerName,
      callee: calleeName,
      callee_extension: calleeExt,
      started_at: startedAt,
      answered_at: how === 'answered' ? new Date(started + 5_000).toISOString() : null,
      ended_at: new Date(started + 65_000).toISOString(),
      disposition: how,
      end_reason: null,
    });
  }

  it("shows each call from the reader's side: outbound, inbound, missed, with the other party and talk time", async () => {
    await record('101', 'Alice Adams', '102', 'Bob Brown', 'answered', '2026-11-24T10:00:00.000Z');
    await record('102', 'Bob Brown', '101', 'Alice Adams', 'missed', '2026-11-24T11:00:00.000Z');
    await record('103', 'Carol Chen', '101', 'Alice Adams', 'answered', '2026-11-24T12:00:00.000Z');
    await record('103', 'Carol Chen', '102', 'Bob Brown', 'answered', '2026-11-24T13:00:00.000Z');

    const alice = await tokenFor('101', 'alice-101');
    const response = await app.inject({ url: '/api/v1/calls', headers: { authorization: `Bearer ${alice}` } });
    expect(response.statusCode).toBe(200);
    const page = response.json() as CallHistoryPage;
    expect(page.calls.map((c) => [c.direction, c.party.number, c.party.name, c.durationSeconds])).toEqual([
      ['inbound', '103', 'Carol Chen', 60],
      ['missed', '102', 'Bob Brown', 0],
      ['outbound', '102', 'Bob Brown', 60],
    ]);
    expect(page.nextBefore).toBeUndefined();
  });

  it("never shows another user's or another organization's calls", async () => {
    const other = await ensureOrganization(store.db, { name: 'Other', domain: 'other.test' });
    await createUser(store.db, { organizationId: other.id, extension: '101', displayName: 'Other Alice', password: 'other-101-pw' });
    await record('101', 'Other Alice', '102', 'Other Bob', 'answered', '2026-11-24T10:00:00.000Z', other.id);
    await record('102', 'Bob Brown', '103', 'Carol Chen', 'answered', '2026-11-24T10:00:00.000Z');

    const alice = await tokenFor('101', 'alice-101', 'demo.offhook.test');
    const page = (await app.inject({ url: '/api/v1/calls', headers: { authorization: `Bearer ${alice}` } })).json() as CallHistoryPage;
    expect(page.calls).toEqual([]);
  });

  it('pages with before and syncs with after', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await record('101', 'Alice Adams', '102', 'Bob Brown', 'answered', `2026-11-24T1${i}:00:00.000Z`));
    const alice = await tokenFor('101', 'alice-101');
    const get = async (query: string) =>
      (await app.inject({ url: `/api/v1/calls?${query}`, headers: { authorization: `Bearer ${alice}` } })).json() as CallHistoryPage;

    const first = await get('limit=2');
    expect(first.calls.map((c) => c.id)).toEqual([ids[4], ids[3]]);
    const second = await get(`limit=2&before=${first.nextBefore}`);
    expect(second.calls.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    const newer = await get(`after=${ids[2]}`);
    expect(newer.calls.map((c) => c.id)).toEqual([ids[4], ids[3]]);
  });

  it('needs a session, and names the field of a bad query', async () => {
    expect((await app.inject({ url: '/api/v1/calls' })).statusCode).toBe(401);
    const alice = await tokenFor('101', 'alice-101');
    const bad = await app.inject({ url: '/api/v1/calls?limit=0', headers: { authorization: `Bearer ${alice}` } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { field: 'limit', message: expect.stringContaining('at least 1') } });
  });
});
