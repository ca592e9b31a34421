/**
 * Whom a call now connects us to, as the PBX asserts it after a transfer: an UPDATE in the call's dialog
 * (RFC 3311) carrying P-Asserted-Identity (RFC 3325). The PBX is the only one that can reach this dialog, and it
 * vouches for its users, so the header is taken as the new remote party.
 */
import { NameAddrHeader } from 'jssip';
import type { RemoteParty } from '../engine';

/** The party a P-Asserted-Identity value names, or undefined when there is none or it does not parse. */
export function assertedParty(value: string | undefined): RemoteParty | undefined {
  if (!value) return undefined;
  // Several identities may be asserted (a SIP and a tel URI, §9.1); the first names the party.
  const parsed = NameAddrHeader.parse(value.split(/,(?=\s*(?:"|<|sip:|sips:|tel:))/)[0] ?? '');
  const number = parsed?.uri?.user;
  if (!parsed || !number) return undefined;
  return { name: parsed.display_name ?? '', number };
}
