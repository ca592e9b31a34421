/**
 * `POST /api/v1/calls/:sipCallId/transfer` through `inject()`, with the transfer feature faked at the edge: the
 * route authenticates, names the user from the session only, validates, and turns the feature's outcome into
 * 202 or a status with a sentence.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiError, TransferRequest } from '../../../shared/api';
import { ensureOrganization } from '../../store/organizations';
import { createUser } from '../../store/users';
import { openTestApi } from '../test-support';
import type { TestApi } from '../test-support';
import type { TransferCommands, TransferOutcome } from '../../features/transfer';

interface Asked {
  user: { userId: number; organizationId: number; extension: string };
  sipCallId: string;
  request: TransferRequest;
}

/** Records what it is asked and answers with `outcome`. */
class FakeTransfers implements TransferCommands {
  readonly asked: Asked[] = [];
  outcome: TransferOutcome = { ok: true };

  async transfer(user: Asked['user'], sipCallId: string, request: TransferRequest): Promise<TransferOutcome> {
    this.asked.push({ user, sipCallId, request });
    return this.outcome;
  }
}

describe('POST /api/v1/calls/:sipCallId/transfer', () => {
  let api: TestApi;
  let transfers: FakeTransfers;

  beforeEach(async () => {
    transfers = new FakeTransfers();
    api = await openTestApi({ transfers });
  });

  afterEach(() => api.close());

  async function post(sipCallId: string, payload: unknown, token?: string) {
    return api.app.inject({
      method: 'POST',
      url: `/api/v1/calls/${encodeURIComponent(sipCallId)}/transfer`,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      payload: payload as object,
    });
  }

  it('hands a blind transfer to the feature for the signed-in user and answers 202', async () => {
    const token = await api.tokenFor('101', 'alice-101');
    const response = await post('a84b4c76e66710@pc33.example', { kind: 'blind', target: '103' }, token);
    expect(response.statusCode).toBe(202);
    expect(transfers.asked).toHaveLength(1);
    const [asked] = transfers.asked;
    expect(asked?.sipCallId).toBe('a84b4c76e66710@pc33.example');
    expect(asked?.request).toEqual({ kind: 'blind', target: '103' });
    expect(asked?.user.extension).toBe('101');
    expect(asked?.user.organizationId).toBe(api.organizationId);
  });

  it('hands an attended transfer on with the consult call\'s Call-ID', async () => {
    const token = await api.tokenFor('102', 'bob-102');
    const response = await post('first-call', { kind: 'attended', withSipCallId: 'consult-call' }, token);
    expect(response.statusCode).toBe(202);
    expect(transfers.asked.map((a) => [a.user.extension, a.sipCallId, a.request])).toEqual([
      ['102', 'first-call', { kind: 'attended', withSipCallId: 'consult-call' }],
    ]);
  });

  it('refuses without a session (401), and never asks the feature', async () => {
    expect((await post('c1', { kind: 'blind', target: '103' })).statusCode).toBe(401);
    expect((await post('c1', { kind: 'blind', target: '103' }, 'not-a-token')).statusCode).toBe(401);
    expect(transfers.asked).toEqual([]);
  });

  it('takes the user from the session, never from the body', async () => {
    const other = await ensureOrganization(api.store.db, { name: 'Other', domain: 'other.test' });
    await createUser(api.store.db, { organizationId: other.id, extension: '101', displayName: 'Other Alice', password: 'other-101-pw' });
    const token = await api.tokenFor('101', 'other-101-pw', 'other.test');
    const response = await post('c1', { kind: 'blind', target: '103', userId: 1, extension: '102', organizationId: api.organizationId }, token);
    expect(response.statusCode).toBe(202);
    expect(transfers.asked[0]?.user.organizationId).toBe(other.id);
    expect(transfers.asked[0]?.user.extension).toBe('101');
    expect(transfers.asked[0]?.request).toEqual({ kind: 'blind', target: '103' });
  });

  it.each([
    [{ kind: 'blind' }, 'target'],
    [{ kind: 'blind', target: 'bob' }, 'target'],
    [{ kind: 'blind', target: '1'.repeat(33) }, 'target'],
    [{ kind: 'attended' }, 'withSipCallId'],
    [{ kind: 'attended', withSipCallId: '' }, 'withSipCallId'],
    [{ kind: 'park', target: '103' }, 'kind'],
    [{}, 'kind'],
  ])('refuses %j with 400 naming the field', async (payload, field) => {
    const token = await api.tokenFor('101', 'alice-101');
    const response = await post('c1', payload, token);
    expect(response.statusCode).toBe(400);
    const body = response.json() as ApiError;
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.field).toBe(field);
    expect(transfers.asked).toEqual([]);
  });

  it('refuses a Call-ID longer than any the app makes (414, the path is too long)', async () => {
    const token = await api.tokenFor('101', 'alice-101');
    const response = await post('x'.repeat(300), { kind: 'blind', target: '103' }, token);
    expect(response.statusCode).toBe(414);
    expect(transfers.asked).toEqual([]);
  });

  it.each([
    [404, 'No one has that extension', 404, 'not_found', 'No one has that extension.'],
    [480, 'Carol Chen is not available.', 480, 'unavailable', 'Carol Chen is not available.'],
    [403, 'you may not call outside numbers', 403, 'forbidden', 'You may not call outside numbers.'],
    [481, 'That call is not yours to transfer.', 481, 'no_such_call', 'That call is not yours to transfer.'],
    [603, 'The transfer was refused.', 409, 'declined', 'The transfer was refused.'],
    [200, '', 502, 'transfer_failed', 'The transfer did not go through.'],
  ])('a refusal %i from the feature is answered %i with its sentence', async (status, reason, httpStatus, code, message) => {
    transfers.outcome = { ok: false, status, reason };
    const token = await api.tokenFor('101', 'alice-101');
    const response = await post('c1', { kind: 'blind', target: '109' }, token);
    expect(response.statusCode).toBe(httpStatus);
    expect(response.json()).toEqual({ error: { code, message } });
  });

  it('answers 503 on a PBX without the transfer feature', async () => {
    const bare = await openTestApi();
    try {
      const token = await bare.tokenFor('101', 'alice-101');
      const response = await bare.app.inject({
        method: 'POST',
        url: '/api/v1/calls/c1/transfer',
        headers: { authorization: `Bearer ${token}` },
        payload: { kind: 'blind', target: '103' },
      });
      expect(response.statusCode).toBe(503);
    } finally {
      await bare.close();
    }
  });
});
