/**
 * For the API's tests: the app built over a fresh in-memory database with the demo organization, tested
 * through `inject()` without a port, and a sign-in that returns a bearer token.
 */
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { seedDemo } from '../store/demo';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { buildApp } from './app';
import type { AppOptions } from './app';

export interface TestApi {
  store: TestDatabase;
  app: FastifyInstance;
  /** The demo organization's id. */
  organizationId: number;
  /** Signs in over the API (asserting 201) and returns the bearer token. */
  tokenFor(extension: string, password: string, organization?: string): Promise<string>;
  close(): Promise<void>;
}

/** `options` adds to the app's (a feature faked at the edge, such as `transfers`). */
export async function openTestApi(options: Partial<Omit<AppOptions, 'db' | 'version'>> = {}): Promise<TestApi> {
  const store = await openTestDatabase('memory');
  const organizationId = (await seedDemo(store.db)).organization.id;
  const app = await buildApp({ ...options, db: store.db, version: 'test' });
  return {
    store,
    app,
    organizationId,
    async tokenFor(extension, password, organization) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { extension, password, organization } });
      expect(response.statusCode).toBe(201);
      return (response.json() as { token: string }).token;
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}
