/**
 * The certificate and key SIP over TLS and HTTPS serve: read from the files the operator names, or, for the demo
 * only, a self-signed pair made once and kept in the data folder so that devices which pinned it keep
 * working across restarts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createLogger } from '../log';

const log = createLogger('tls');

export interface TlsCredentials {
  cert: string;
  key: string;
  /** Where they came from, for the start-up summary. */
  source: string;
}

export interface TlsCredentialOptions {
  certFile?: string;
  keyFile?: string;
  dataDir: string;
  demo: boolean;
  /** Host name or address the certificate names (the PBX's SIP host). */
  host: string;
}

/** Self-signed demo certificates last this long; the pair is made again once expired. */
const DEMO_VALIDITY_DAYS = 365;

export async function loadTlsCredentials(options: TlsCredentialOptions): Promise<TlsCredentials | undefined> {
  if (options.certFile && options.keyFile) {
    return { cert: readFileSync(options.certFile, 'utf8'), key: readFileSync(options.keyFile, 'utf8'), source: options.certFile };
  }
  if (!options.demo) return undefined;
  const dir = join(options.dataDir, 'tls');
  const certFile = join(dir, 'demo-cert.pem');
  const keyFile = join(dir, 'demo-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8');
    if (new x509.X509Certificate(cert).notAfter.getTime() > Date.now()) {
      return { cert, key: readFileSync(keyFile, 'utf8'), source: `${certFile} (self-signed)` };
    }
  }
  const pair = await createSelfSigned(options.host);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, pair.key, { mode: 0o600 });
  writeFileSync(certFile, pair.cert);
  log.info('made a self-signed certificate for the demo', { certFile, host: options.host });
  return { ...pair, source: `${certFile} (self-signed)` };
}

/** An ECDSA P-256 key and a self-signed certificate for `host` (as a DNS name or an IP address). */
export async function createSelfSigned(host: string): Promise<{ cert: string; key: string }> {
  const crypto = webcrypto as unknown as Crypto;
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + DEMO_VALIDITY_DAYS * 24 * 3600 * 1000);
  const names: x509.JsonGeneralName[] = [{ type: isIP(host) ? 'ip' : 'dns', value: host }];
  if (host !== 'localhost') names.push({ type: 'dns', value: 'localhost' });
  if (host !== '127.0.0.1') names.push({ type: 'ip', value: '127.0.0.1' });
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
      name: `CN=${host.replace(/[,=+<>#;\\"]/g, '')}, O=Offhook demo`,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names),
      ],
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { cert: certificate.toString('pem'), key };
}
