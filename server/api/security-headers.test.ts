import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SECURITY_HEADERS } from './app';
import { openTestApi } from './test-support';
import type { TestApi } from './test-support';

describe('API response headers', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await openTestApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('sends the security headers with every API response, errors and 404s included', async () => {
    const responses = [
      await api.app.inject({ method: 'GET', url: '/api/v1/health' }),
      await api.app.inject({ method: 'GET', url: '/api/v1/me' }),
      await api.app.inject({ method: 'GET', url: '/api/v1/no-such-thing?x=1' }),
      await api.app.inject({ method: 'POST', url: '/api/v1/session', headers: { 'content-type': 'application/json' }, payload: '{not json' }),
      await api.app.inject({ method: 'POST', url: '/api/v1/session', payload: { extension: '101', password: 'wrong' } }),
      await api.app.inject({ method: 'OPTIONS', url: '/api/v1/session' }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 401, 404, 400, 401, 204]);
    for (const response of responses) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'x-frame-options': 'DENY',
      });
    }
    expect(Object.keys(API_SECURITY_HEADERS)).toHaveLength(4);
  });
});
