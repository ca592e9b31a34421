/**
 * `POST /api/v1/calls/:sipCallId/merge` and `DELETE /api/v1/calls/:sipCallId/participants/:extension` through
 * `inject()`, with the conference feature faked at the edge: the routes authenticate, name the user from the
 * session only, validate, and turn the feature's outcome into 202 or a status with a sentence.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiError } from '../../../shared/api';
import { mergePath, participantPath } from '../../../shared/api';
import type { ConferenceCommands, ConferenceOutcome, ConferencingUser } from '../../features/conference';
import { ensureOrganization } from '../../store/organizations';
import { createUser } from '../../store/users';
import { openTestApi } from '../test-support';
import type { TestApi } from '../test-support';

type Asked = { command: 'merge'; user: ConferencingUser; sipCallId: string; withSipCallId: string } | { command: 'remove'; user: ConferencingUser; sipCallId: string; extension: string };

/** Records what it is asked and answers with `outcome`. */
class FakeConferences implements ConferenceCommands {
  readonly asked: Asked[] = [];
  outcome: ConferenceOutcome = { ok: true };

  async merge(user: ConferencingUser, sipCallId: string, withSipCallId: string): Promise<ConferenceOutcome> {
    this.asked.push({ command: 'merge', user, sipCallId, withSipCallId });
    return this.outcome;
  }

  async remove(user: ConferencingUser, sipCallId: string, extension: string): Promise<ConferenceOutcome> {
    this.asked.push({ command: 'remove', user, sipCallId, extension });
    return this.outcome;
  }
}

describe('conference commands on a call', () => {
  let api: TestApi;
  let conferences: FakeConferences;

  beforeEach(async () => {
    conferences = new FakeConferences();
    api = await openTestApi({ conferences });
  });

  afterEach(() => api.close());

  function merge(sipCallId: string, payload: unknown, token?: string) {
    return api.app.inject({
      method: 'POST',
      url: `/api/v1${mergePath(sipCallId)}`,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      payload: payload as object,
    });
  }

  function remove(sipCallId: string, extension: string, token?: string) {
    return api.app.inject({ method: 'DELETE', url: `/api/v1${participantPath(sipCallId, extension)}`, headers: token ? { authorization: `Bearer ${token}` } : {} });
  }

  it('hands a merge to the feature for the signed-in user and answers 202', async () => {
    const token = await api.tokenFor('102', 'bob-102');
    const response = await merge('first@pc33.example', { withSipCallId: 'second@pc33.example' }, token);
    expect(response.statusCode).toBe(202);
    expect(conferences.asked).toEqual([
      { command: 'merge', user: { organizationId: api.organizationId, extension: '102' }, sipCallId: 'first@pc33.example', withSipCallId: 'second@pc33.example' },
    ]);
  });

  it('hands a removal to the feature, the participant named in the path, and answers 202', async () => {
    const token = await api.tokenFor('102', 'bob-102');
    const response = await remove('first@pc33.example', '103', token);
    expect(response.statusCode).toBe(202);
    expect(conferences.asked).toEqual([{ command: 'remove', user: { organizationId: api.organizationId, extension: '102' }, sipCallId: 'first@pc33.example', extension: '103' }]);
  });

  it('removes an outside number by its E.164 form (the + travels encoded in the path)', async () => {
    const token = await api.tokenFor('102', 'bob-102');
    expect((await remove('c1', '+15551234567', token)).statusCode).toBe(202);
    expect(conferences.asked[0]).toMatchObject({ command: 'remove', extension: '+15551234567' });
  });

  it('refuses without a session (401), and never asks the feature', async () => {
    expect((await merge('c1', { withSipCallId: 'c2' })).statusCode).toBe(401);
    expect((await merge('c1', { withSipCallId: 'c2' }, 'not-a-token')).statusCode).toBe(401);
    expect((await remove('c1', '103')).statusCode).toBe(401);
    expect(conferences.asked).toEqual([]);
  });

  it('takes the user from the session, never from the body', async () => {
    const other = await ensureOrganization(api.store.db, { name: 'Other', domain: 'other.test' });
    await createUser(api.store.db, { organizationId: other.id, extension: '101', displayName: 'Other Alice', password: 'other-101-pw' });
    const token = await api.tokenFor('101', 'other-101-pw', 'other.test');
    const response = await merge('c1', { withSipCallId: 'c2', extension: '102', organizationId: api.organizationId }, token);
    expect(response.statusCode).toBe(202);
    expect(conferences.asked[0]?.user).toEqual({ organizationId: other.id, extension: '101' });
  });

  it.each([
    [{}, 'withSipCallId'],
    [{ withSipCallId: '' }, 'withSipCallId'],
    [{ withSipCallId: 42 }, 'withSipCallId'],
    [{ withSipCallId: 'x'.repeat(257) }, 'withSipCallId'],
  ])('refuses the merge %j with 400 naming the field', async (payload, field) => {
    const token = await api.tokenFor('102', 'bob-102');
    const response = await merge('c1', payload, token);
    expect(response.statusCode).toBe(400);
    const body = response.json() as ApiError;
    expect(body.error).toMatchObject({ code: 'invalid_request', field });
    expect(conferences.asked).toEqual([]);
  });

  it.each(['bob', '10 3', '1'.repeat(33)])('refuses to remove %j (not an extension or number) with 400', async (extension) => {
    const token = await api.tokenFor('102', 'bob-102');
    const response = await remove('c1', extension, token);
    expect(response.statusCode).toBe(400);
    expect((response.json() as ApiError).error).toMatchObject({ code: 'invalid_request', field: 'extension' });
    expect(conferences.asked).toEqual([]);
  });

  it.each([
    ['merge', 404, 'That call is not one of yours', 404, 'not_found', 'That call is not one of yours.'],
    ['merge', 409, 'Only answered calls can be merged', 409, 'conflict', 'Only answered calls can be merged.'],
    ['merge', 200, '', 502, 'merge_failed', 'The calls could not be merged.'],
    ['remove', 403, 'Only the person who built the conference can remove others', 403, 'forbidden', 'Only the person who built the conference can remove others.'],
    ['remove', 404, '103 is not in this conference', 404, 'not_found', '103 is not in this conference.'],
    ['remove', 500, '', 500, 'remove_failed', '103 could not be removed from the conference.'],
  ])('a %s refused %i by the feature is answered %i with its sentence', async (command, status, reason, httpStatus, code, message) => {
    conferences.outcome = { ok: false, status, reason };
    const token = await api.tokenFor('102', 'bob-102');
    const response = command === 'merge' ? await merge('c1', { withSipCallId: 'c2' }, token) : await remove('c1', '103', token);
    expect(response.statusCode).toBe(httpStatus);
    expect(response.json()).toEqual({ error: { code, message } });
  });

  it('answers 503 on a PBX without the conference feature', async () => {
    const bare = await openTestApi();
    try {
      const token = await bare.tokenFor('102', 'bob-102');
      const headers = { authorization: `Bearer ${token}` };
      expect((await bare.app.inject({ method: 'POST', url: '/api/v1/calls/c1/merge', headers, payload: { withSipCallId: 'c2' } })).statusCode).toBe(503);
      expect((await bare.app.inject({ method: 'DELETE', url: '/api/v1/calls/c1/participants/103', headers })).statusCode).toBe(503);
    } finally {
      await bare.close();
    }
  });
});
