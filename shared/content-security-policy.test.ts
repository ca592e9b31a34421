import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from './content-security-policy';

describe('content security policy', () => {
  it('runs only our own scripts and styles in the built app', () => {
    const policy = contentSecurityPolicy();
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("style-src 'self';");
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).toContain("frame-ancestors 'none'");
  });

  it('leaves frame-ancestors out of a <meta> policy, where browsers ignore it', () => {
    expect(contentSecurityPolicy({ forMetaTag: true })).not.toContain('frame-ancestors');
  });

  it("allows inline styles only for the development server", () => {
    expect(contentSecurityPolicy({ devServer: true })).toContain("style-src 'self' 'unsafe-inline'");
  });
});
