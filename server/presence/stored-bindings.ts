/**
 * Registration bindings as the store keeps them (server/store/registrations.ts), and back. The registrar
 * decides which bindings outlive the process; here is only how one becomes a row and a row a binding again.
 */
import type { RegistrationKey } from '../store/registrations';
import type { StoredRegistration, StoredTransport } from '../store/schema';
import { SipConnection } from '../sip/transport/connection';
import { formatNameAddr, formatUri, parseNameAddrUnshared } from '../sip/syntax/message';
import type { Binding } from './registrar';

/**
 * Which of a user's bindings this is, as text: a device that sends +sip.instance is its instance (RFC 5626
 * §6; the stored ones have no reg-id), any other its Contact URI (RFC 3261 §10.3 step 7).
 */
export function bindingKey(binding: Pick<Binding, 'instance' | 'contact'>): string {
  return binding.instance !== undefined ? `instance ${binding.instance}` : `contact ${formatUri(binding.contact.uri)}`;
}

export function registrationKey(binding: Binding, organizationId: number, extension: string): RegistrationKey {
  return { organization_id: organizationId, extension, binding_key: bindingKey(binding) };
}

/** The row of a binding over UDP, TCP or TLS (the only ones stored). Written out field by field: it is made for every REGISTER, and V8 builds a spread object many times slower. */
export function registrationRow(binding: Binding, organizationId: number, extension: string): StoredRegistration {
  const connection = binding.connection;
  return {
    organization_id: organizationId,
    extension,
    binding_key: bindingKey(binding),
    contact: formatNameAddr(binding.contact),
    path: JSON.stringify(binding.path),
    transport: connection.transport as StoredTransport,
    remote_address: connection.remoteAddress,
    remote_port: connection.remotePort,
    call_id: binding.callId,
    cseq: binding.cseq,
    expires_at: new Date(binding.expiresAt).toISOString(),
    user_agent: binding.userAgent ?? null,
  };
}

/** The binding a row stood for, reached through `connection`; undefined for a row that cannot be read. */
export function bindingFromRow(row: StoredRegistration, aor: string, connection: SipConnection): Binding | undefined {
  try {
    const contact = parseNameAddrUnshared(row.contact);
    const path: unknown = JSON.parse(row.path);
    const expiresAt = Date.parse(row.expires_at);
    if (!Array.isArray(path) || !path.every((hop) => typeof hop === 'string') || Number.isNaN(expiresAt)) return undefined;
    const instance = contact.params['+sip.instance'] ?? undefined;
    return {
      aor,
      contact,
      ...(instance ? { instance } : {}),
      path,
      connection,
      callId: row.call_id,
      cseq: row.cseq,
      expiresAt,
      userAgent: row.user_agent ?? undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * The TCP or TLS connection a device registered over before the PBX restarted: gone, and closed from the
 * start. A binding holding it is reached as any whose connection closed: through a new connection to the
 * Contact where the device listens (Registrar.connectionFor, RFC 3261 §18.1.1).
 */
export class FormerStreamFlow extends SipConnection {
  constructor(transport: 'TCP' | 'TLS', remoteAddress: string, remotePort: number) {
    super(`${transport.toLowerCase()}-before-restart-${remoteAddress}:${remotePort}`, transport, remoteAddress, remotePort);
    this.close();
  }

  protected write(): void {
    // Never called: a closed flow sends nothing (SipConnection.send).
  }
}
