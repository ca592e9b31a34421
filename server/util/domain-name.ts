/**
 * How the PBX compares SIP domains, wherever one is kept or looked up: the store's organizations, the
 * digest identities, and the attempt limiter's account keys (which the SIP edge and REST sign-in share, so
 * both must spell a domain alike). Here, below all of them, so that none has to import another for it.
 */

/** SIP domains compare without case (RFC 3261 §19.1.4), so they are kept and looked up in lower case. */
export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase();
}
