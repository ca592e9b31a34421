/**
 * Sets the app's Content-Security-Policy (shared/content-security-policy.ts) on every response the
 * desktop app's session receives.
 */
import { CONTENT_SECURITY_POLICY, contentSecurityPolicy } from '../shared/content-security-policy';
import { createLogger } from './log';

export { CONTENT_SECURITY_POLICY, contentSecurityPolicy };
export type { ContentSecurityPolicyOptions } from '../shared/content-security-policy';

const log = createLogger('csp');

type ResponseHeaders = Record<string, string | string[]>;

export interface HeadersReceivedSessionLike {
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { url: string; responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders?: ResponseHeaders }) => void,
      ) => void,
    ): void;
  };
}

/**
 * Sets the policy on every response the session receives. A policy the server sent is replaced, not kept
 * beside ours, so the app's rules are the ones in force whatever server the user chose.
 */
export function installContentSecurityPolicy(session: HeadersReceivedSessionLike, policy = CONTENT_SECURITY_POLICY): void {
  log.debug('installing the content security policy', { policy });
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withPolicy(details.responseHeaders, policy) });
  });
}

export function withPolicy(headers: Record<string, string[]> | undefined, policy: string): ResponseHeaders {
  const result: ResponseHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') result[name] = value;
  }
  result['Content-Security-Policy'] = [policy];
  return result;
}
