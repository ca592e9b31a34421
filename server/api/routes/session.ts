/**
 * Sign-in: `POST /session` exchanges an extension (or SIP address) and password for a bearer token and the SIP
 * credentials the app registers with. `GET /me`, `POST /session/renew` and `DELETE /session` need the token.
 *
 * Renewing is how an app stays signed in across a reload or a restart while keeping only the token: it answers
 * what sign-in answered, with the same SIP password (derived from the token, so every tab of the session stays
 * registered) and the session's end moved to a full lifetime from now, up to a maximum counted from the sign-in. Signing out or the expiry ends it for good.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { SESSION_RENEW_PATH, SessionRequest, SIP_WS_PATH, splitSignInName } from '../../../shared/api';
import type { SessionResponse, SignInName, UserProfile } from '../../../shared/api';
import { accountKey } from '../../auth/attempt-limiter';
import { SignInGuard } from '../../auth/sign-in-guard';
import { getOrganizationById } from '../../store/organizations';
import type { Database } from '../../store/schema';
import { createSession, deleteSession, findSessionByToken, renewSession } from '../../store/sessions';
import { authenticateUser } from '../../store/users';
import { HttpError, validationError } from '../errors';
import { signInOrganization } from '../sign-in-organization';
import { signInRefusal } from '../sign-in-refusal';

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** However often it is renewed, a session ends this long after the sign-in that opened it; then the password is asked again. */
export const MAX_SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

/** An organization id no row has (ids start at 1): a sign-in for a domain not hosted here finds no user. */
const NO_ORGANIZATION = 0;

interface SessionRouteOptions {
  db: Kysely<Database>;
  ttlMs?: number;
  /** The most a session lasts from its sign-in, renewals included; default MAX_SESSION_LIFETIME_MS. */
  maxLifetimeMs?: number;
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
    return reply.code(201).send(sessionResponse(request, session, user, organization));
  });

  api.post(SESSION_RENEW_PATH, async (request) => {
    const { session, user, organization } = await requireSession(db, request);
    const renewed = await renewSession(db, {
      sessionId: session.id,
      token: bearerToken(request) ?? '',
      realm: organization.domain,
      username: user.extension,
      ttlMs: options.ttlMs ?? DEFAULT_SESSION_TTL_MS,
      createdAt: session.created_at,
      maxLifetimeMs: options.maxLifetimeMs ?? MAX_SESSION_LIFETIME_MS,
    });
    // Signed out meanwhile, or at the end of its lifetime: the same answer as an unknown token.
    if (!renewed) throw new HttpError(401, 'not_signed_in', 'Sign in to continue.');
    return sessionResponse(request, { token: bearerToken(request) ?? '', ...renewed }, user, organization);
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

type SessionUser = { id: number; extension: string; display_name: string; role: 'user' | 'admin' };
type SessionOrganization = { id: number; name: string; domain: string };

/** What signing in and renewing answer: the token, when it ends, who it is, and the SIP credentials to register with. */
function sessionResponse(
  request: FastifyRequest,
  session: { token: string; sipPassword: string; expiresAt: string },
  user: SessionUser,
  organization: SessionOrganization,
): SessionResponse {
  return {
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
}

function sipWebSocketUrl(request: FastifyRequest): string {
  const scheme = request.protocol === 'https' ? 'wss' : 'ws';
  return `${scheme}://${request.host}${SIP_WS_PATH}`;
}

function profile(user: SessionUser, organization: SessionOrganization): UserProfile {
  return {
    id: user.id,
    extension: user.extension,
    displayName: user.display_name,
    role: user.role,
    organization: { id: organization.id, name: organization.name, domain: organization.domain },
  };
}
