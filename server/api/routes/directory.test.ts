import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DirectoryPage } from '../../../shared/api';
import { ensureOrganization } from '../../store/organizations';
import { createUser } from '../../store/users';
import { openTestApi } from '../test-support';
import type { TestApi } from '../test-support';

describe('GET /api/v1/directory', () => {
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

  async function search(token: string, query: string): Promise<DirectoryPage> {
    const response = await app.inject({ url: `/api/v1/directory?${query}`, headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(200);
    return response.json() as DirectoryPage;
  }

  const people = (page: DirectoryPage) => page.entries.map((e) => `${e.displayName} ${e.extension}`);

  it('lists everyone in the organization by extension when nothing is typed', async () => {
    const alice = await tokenFor('101', 'alice-101');
    const page = await search(alice, '');
    expect(people(page)).toEqual(['Dana Admin 100', 'Alice Adams 101', 'Bob Brown 102', 'Carol Chen 103']);
    expect(page.more).toBe(false);
  });

  it('finds people by any part of their name, in any case', async () => {
    const alice = await tokenFor('101', 'alice-101');
    expect(people(await search(alice, 'q=bo'))).toEqual(['Bob Brown 102']);
    expect(people(await search(alice, 'q=BROWN'))).toEqual(['Bob Brown 102']);
    expect(people(await search(alice, 'q=he'))).toEqual(['Carol Chen 103']);
    expect(people(await search(alice, 'q=zz'))).toEqual([]);
  });

  it('puts names that start with the text before names with a word that does, and those before the rest', async () => {
    await createUser(store.db, { organizationId: orgId, extension: '110', displayName: 'Ada Carlsson', password: 'pw-110' });
    await createUser(store.db, { organizationId: orgId, extension: '111', displayName: 'Oscar Wilde', password: 'pw-111' });
    const alice = await tokenFor('101', 'alice-101');
    expect(people(await search(alice, 'q=car'))).toEqual(['Carol Chen 103', 'Ada Carlsson 110', 'Oscar Wilde 111']);
  });

  it('finds extensions by their first digits, the exact one first', async () => {
    await createUser(store.db, { organizationId: orgId, extension: '1020', displayName: 'Bea Brown', password: 'pw-1020' });
    const alice = await tokenFor('101', 'alice-101');
    expect(people(await search(alice, 'q=102'))).toEqual(['Bob Brown 102', 'Bea Brown 1020']);
    expect(people(await search(alice, 'q=02'))).toEqual([]);
  });

  it('matches % and _ as typed, not as wildcards', async () => {
    await createUser(store.db, { organizationId: orgId, extension: '120', displayName: '100% Sales', password: 'pw-120' });
    const alice = await tokenFor('101', 'alice-101');
    expect(people(await search(alice, `q=${encodeURIComponent('0%')}`))).toEqual(['100% Sales 120']);
    expect(people(await search(alice, 'q=_'))).toEqual([]);
  });

  it('says when the limit left people out', async () => {
    const alice = await tokenFor('101', 'alice-101');
    const page = await search(alice, 'limit=2');
    expect(people(page)).toEqual(['Dana Admin 100', 'Alice Adams 101']);
    expect(page.more).toBe(true);
  });

  it("never lists another organization's people", async () => {
    const other = await ensureOrganization(store.db, { name: 'Other', domain: 'other.test' });
    await createUser(store.db, { organizationId: other.id, extension: '102', displayName: 'Bonnie Other', password: 'other-102-pw' });
    await createUser(store.db, { organizationId: other.id, extension: '101', displayName: 'Other Alice', password: 'other-101-pw' });

    const alice = await tokenFor('101', 'alice-101', 'demo.offhook.test');
    expect(people(await search(alice, 'q=bo'))).toEqual(['Bob Brown 102']);
    const otherAlice = await tokenFor('101', 'other-101-pw', 'other.test');
    expect(people(await search(otherAlice, ''))).toEqual(['Other Alice 101', 'Bonnie Other 102']);
  });

  it('needs a session, and names the field of a bad query', async () => {
    expect((await app.inject({ url: '/api/v1/directory?q=bo' })).statusCode).toBe(401);
    const alice = await tokenFor('101', 'alice-101');
    const get = (query: string) => app.inject({ url: `/api/v1/directory?${query}`, headers: { authorization: `Bearer ${alice}` } });

    const zero = await get('limit=0');
    expect(zero.statusCode).toBe(400);
    expect(zero.json()).toMatchObject({ error: { field: 'limit', message: expect.stringContaining('at least 1') } });
    const words = await get('limit=many');
    expect(words.statusCode).toBe(400);
    expect(words.json()).toMatchObject({ error: { field: 'limit' } });
    const long = await get(`q=${'a'.repeat(101)}`);
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ error: { field: 'q', message: expect.stringContaining('at most 100') } });
    const twice = await get('q=a&q=b');
    expect(twice.statusCode).toBe(400);
    expect(twice.json()).toMatchObject({ error: { field: 'q' } });
  });
});
