/** An answering rule made through the PBX's REST API, as its user would make one in the app. */
import { expect } from 'vitest';
import type { AnsweringRule, TimeFrame } from '../../shared/answering-rules';
import type { SessionResponse } from '../../shared/api';

/**
 * Signs in as `person` and gives them a rule for any time (a frame "Any time", priority 1) doing `action`.
 * `organization` is the domain to sign in to, where the PBX holds more than one.
 */
export async function addAlwaysRule(baseUrl: string, person: { extension: string; password: string }, name: string, action: unknown, organization?: string): Promise<AnsweringRule> {
  const session = await fetch(`${baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ extension: person.extension, password: person.password, ...(organization ? { organization } : {}) }),
  });
  expect(session.status).toBe(201);
  const { token } = (await session.json()) as SessionResponse;
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method: 'POST',
      headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    return JSON.parse(text) as T;
  };
  const frame = await post<TimeFrame>('/time-frames', { name: 'Any time', spec: { type: 'always' } });
  return post<AnsweringRule>('/answering-rules', { name, timeFrameId: frame.id, priority: 1, action });
}
