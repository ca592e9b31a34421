import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, contentSecurityPolicy, installContentSecurityPolicy, withPolicy } from './csp';
import type { HeadersReceivedSessionLike } from './csp';

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(';').map((part) => {
      const [name = '', ...sources] = part.trim().split(/\s+/);
      return [name, sources] as const;
    }),
  );
}

describe('contentSecurityPolicy', () => {
  const policy = directives(CONTENT_SECURITY_POLICY);

  it('runs only the app’s own scripts and styles', () => {
    expect(policy.get('default-src')).toEqual(["'self'"]);
    expect(policy.get('script-src')).toEqual(["'self'"]);
    expect(policy.get('style-src')).toEqual(["'self'"]);
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('lets the app reach whichever PBX the user chose, over http(s) and ws(s)', () => {
    expect(policy.get('connect-src')).toEqual(["'self'", 'http:', 'https:', 'ws:', 'wss:']);
  });

  it('plays call audio and fetched recordings', () => {
    expect(policy.get('media-src')).toEqual(["'self'", 'blob:', 'mediastream:']);
    expect(policy.get('img-src')).toContain('data:');
  });

  it('allows no plugins, no base URL, no form posts and no framing', () => {
    expect(policy.get('object-src')).toEqual(["'none'"]);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'none'"]);
    expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
  });

  it('allows inline styles only for the dev server', () => {
    expect(directives(contentSecurityPolicy({ devServer: true })).get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(directives(contentSecurityPolicy({ devServer: true })).get('script-src')).toEqual(["'self'"]);
  });
});

describe('installContentSecurityPolicy', () => {
  it('sets the policy on every response, replacing one the server sent', () => {
    let listener: Parameters<HeadersReceivedSessionLike['webRequest']['onHeadersReceived']>[0] | undefined;
    installContentSecurityPolicy({ webRequest: { onHeadersReceived: (l) => (listener = l) } });
    const responses: unknown[] = [];
    listener?.(
      { url: 'http://pbx.example:8088/api/v1/me', responseHeaders: { 'content-security-policy': ["default-src *"], 'Content-Type': ['application/json'] } },
      (response) => responses.push(response),
    );
    listener?.({ url: 'http://localhost:5173/' }, (response) => responses.push(response));
    expect(responses).toEqual([
      { responseHeaders: { 'Content-Type': ['application/json'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } },
      { responseHeaders: { 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } },
    ]);
  });

  it('keeps other headers untouched', () => {
    expect(withPolicy({ 'Set-Cookie': ['a=1', 'b=2'] }, 'default-src none')).toEqual({
      'Set-Cookie': ['a=1', 'b=2'],
      'Content-Security-Policy': ['default-src none'],
    });
  });
});
