/**
 * The Content-Security-Policy of the app's pages, written once: main sets it on responses in the desktop
 * app, the renderer build puts it in index.html (file:// pages get no response headers to set it on), and
 * the PBX sends it with the web phone. Only the app's own scripts run; the network is open because each
 * user points the app at their own PBX (REST over http(s), SIP over ws(s), RFC 7118).
 */
export interface ContentSecurityPolicyOptions {
  /**
   * The Vite dev server injects each component's CSS as a `<style>` element at run time, which needs
   * `'unsafe-inline'`; the built app links compiled CSS files and does not.
   */
  devServer?: boolean;
  /** A `<meta>` policy cannot carry `frame-ancestors` (CSP3 §6.1); browsers warn and ignore it there. */
  forMetaTag?: boolean;
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
  };
  if (!options.forMetaTag) directives['frame-ancestors'] = ["'none'"];
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();
