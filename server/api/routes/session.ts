/**
 * Sign-in: `POST /session` exchanges an extension (or SIP address) and password for a bearer token and the SIP
 * credentials the app registers with. `GET /me` and `DELETE /session` need the token.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { SessionRequest, SIP_WS_PATH, splitSignInName } from '../../../shared/api';
import type { SessionResponse, SignInName, UserProfile } from '../../../shared/api';
import { accountKey } from '../../auth/attempt-limiter';
import { SignInGuard } from '../../auth/sign-in-guard';
import { getOrganizationById } from '../../store/organizations';
import type { Database } from '../../store/schema';
import { createSession, deleteSession, findSessionByToken } from '../../store/sessions';
import { authenticateUser } from '../../store/users';
import { HttpError, validationError } from '../errors';
import { signInOrganization } from '../sign-in-organization';
import { signInRefusal } from '../sign-in-refusal';

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** An organization id no row has (ids start at 1): a sign-in for a domain not hosted here finds no user. */
const NO_ORGANIZATION = 0;

interface SessionRouteOptions {
  db: Kysely<Database>;
  ttlMs?: number;
  /** Whether an `organization_required` answer lists the organizations (sign-in-organization.ts); default off. */
  listOrganizations?: boolean;
  /** Limits on guessing (auth/sign-in-guard.ts): the app hands in the one it shares with SIP. */
  signIn?: SignInGuard;
}

export async function registerSessionRoutes(api: FastifyInstance, options: SessionRouteOptions): Promise<void> {
  const { db } = options;
  const signIn = options.signIn ?? new SignInGuard();

  api.post('/session', async (request, reply) => {
    const parsed = SessionRequest.safeParse(request.body ?? {});
    if (!parsed.success) throw validationError(parsed.error);
    const { password } = parsed.data;
    // The schema let through only an extension or a SIP address, so the split finds one of them.
    const name: SignInName = splitSignInName(parsed.data.extension) ?? { extension: parsed.data.extension };
    const { extension } = name;
    const organization = await signInOrganization(db, {
      addressDomain: name.domain,
      organization: parsed.data.organization,
      listOrganizations: options.listOrganizations,
    });
    // Limited per account and per address before any scrypt runs, and the scrypt queued fairly (sign-in-guard.ts).
    // A domain not hosted here goes the same way, against no organization: the same limits and the same scrypt,
    // so neither the time taken nor an unlimited stream of attempts tells which organizations the PBX hosts.
    const domain = organization?.domain ?? name.domain ?? parsed.data.organization ?? '';
    const organizationId = organization?.id ?? NO_ORGANIZATION;
    const user = await signIn
      .authenticate(request.ip, accountKey(domain, extension), (verify) => authenticateUser(db, organizationId, extension, password, verify))
      .catch(signInRefusal);
    if (!organization || !user) {
      throw new HttpError(401, 'invalid_credentials', 'The extension or password is incorrect.');
    }
    const session = await createSession(db, {
      userId: user.id,
      realm: organization.domain,
      username: user.extension,
      ttlMs: options.ttlMs ?? DEFAULT_SESSION_TTL_MS,
    });
    const body: SessionResponse = {
      token: session.token,
      expiresAt: session.expiresAt,
      user: profile(user, organization),
      sip: {
        uri: `sip:${user.extension}@${organization.domain}`,
        wsUrl: sipWebSocketUrl(request),
        authorizationUser: user.extension,
        password: session.sipPassword,
        realm: organization.domain,
        displayName: user.display_name,
      },
    };
    return reply.code(201).send(body);
  });

  api.get('/me', async (request) => {
    const { user, organization } = await requireSession(db, request);
    return profile(user, organization);
  });

  api.delete('/session', async (request, reply) => {
    await requireSession(db, request);
    await deleteSession(db, bearerToken(request) ?? '');
    return reply.code(204).send();
  });
}

export async function requireSession(db: Kysely<Database>, request: FastifyRequest) {
  const token = bearerToken(request);
  const found = token ? await findSessionByToken(db, token) : undefined;
  if (!found) throw new HttpError(401, 'not_signed_in', 'Sign in to continue.');
  const organization = found.organization ?? (await getOrganizationById(db, found.user.organization_id));
  if (!organization) throw new HttpError(401, 'not_signed_in', 'Sign in to continue.');
  return { ...found, organization };
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

function sipWebSocketUrl(request: FastifyRequest): string {
  const scheme = request.protocol === 'https' ? 'wss' : 'ws';
  return `${scheme}://${request.host}${SIP_WS_PATH}`;
}

function profile(
  user: { id: number; extension: string; display_name: string; role: 'user' | 'admin' },
  organization: { id: number; name: string; domain: string },
): UserProfile {
  return {
    id: user.id,
    extension: user.extension,
    displayName: user.display_name,
    role: user.role,
    organization: { id: organization.id, name: organization.name, domain: organization.domain },
  };
}
