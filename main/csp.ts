/**
 * The Content-Security-Policy of the app's pages. Only the app's own scripts run; the network is open
 * because each user points the app at their own PBX (REST over http(s), SIP over ws(s), RFC 7118).
 */
import { createLogger } from './log';

const log = createLogger('csp');

export interface ContentSecurityPolicyOptions {
  /**
   * The Vite dev server injects each component's CSS as a `<style>` element at run time, which needs
   * `'unsafe-inline'`; the built app links compiled CSS files and does not.
   */
  devServer?: boolean;
}

export function contentSecurityPolicy(options: ContentSecurityPolicyOptions = {}): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': options.devServer ? ["'self'", "'unsafe-inline'"] : ["'self'"],
    'connect-src': ["'self'", 'http:', 'https:', 'ws:', 'wss:'],
    // Remote audio arrives as a MediaStream; recordings and greetings are fetched and played from blob: URLs.
    'media-src': ["'self'", 'blob:', 'mediastream:'],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

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
