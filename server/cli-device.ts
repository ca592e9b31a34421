/**
 * `offhook-pbx user sip-password`: sets the long-lived SIP password a user types into a desk phone or a
 * SIP app (digest username = the extension, realm = the organization's domain).
 *
 *   offhook-pbx user sip-password --extension N [--organization DOMAIN] [--label "desk phone"]
 *                                 [--password P | --generate] [--data-dir DIR]
 *
 * Without --password or --generate the password is read from standard input (one line), so it stays out
 * of shell history. --generate makes a random one and prints it once; only its digest HA1s are stored.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError } from './config';
import { createLogger } from './log';
import { closeDatabase, openDatabase } from './store/db';
import { DEFAULT_DEVICE_LABEL, MIN_DEVICE_PASSWORD_LENGTH, setDevicePassword } from './store/device-credentials';
import { migrateToLatest } from './store/migrate';
import { findOrganizationByDomain, listOrganizations } from './store/organizations';
import { findUserByExtension } from './store/users';
import { isExtension } from '../shared/extensions';

const log = createLogger('cli');

const OPTIONS = ['--extension', '--organization', '--label', '--password', '--data-dir'] as const;
const FLAGS = ['--generate'] as const;

export const DEVICE_PASSWORD_USAGE = `offhook-pbx user sip-password --extension N [--organization DOMAIN] [--label "desk phone"] [--password P | --generate] [--data-dir DIR]
  Sets the SIP password a desk phone or SIP app registers with (digest username = the extension,
  realm = the organization's domain). Read from standard input unless --password or --generate is given.
`;

export interface DevicePasswordIo {
  stdout: (text: string) => void;
  /** One line of standard input. */
  readLine: () => Promise<string>;
}

const processIo: DevicePasswordIo = {
  stdout: (text) => process.stdout.write(text),
  readLine: async () => {
    if (process.stdin.isTTY) process.stdout.write('SIP password: ');
    const rl = createInterface({ input: process.stdin });
    const line = await new Promise<string>((resolveLine) => rl.once('line', resolveLine).once('close', () => resolveLine('')));
    rl.close();
    return line;
  },
};

function parse(args: readonly string[]): { options: Map<string, string>; flags: Set<string> } {
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    if ((FLAGS as readonly string[]).includes(name)) {
      flags.add(name);
      continue;
    }
    if (!(OPTIONS as readonly string[]).includes(name)) throw new ConfigError(`Unknown option ${name}.\n${DEVICE_PASSWORD_USAGE}`);
    const value = inline ?? args[++i];
    if (value === undefined) throw new ConfigError(`${name} needs a value.`);
    options.set(name, value);
  }
  return { options, flags };
}

/** Runs the command with the arguments after `user sip-password`; returns the exit code. Throws ConfigError for a usage mistake. */
export async function runDevicePasswordCommand(args: readonly string[], io: DevicePasswordIo = processIo): Promise<number> {
  const { options, flags } = parse(args);
  const extension = options.get('--extension');
  if (!extension || !isExtension(extension)) throw new ConfigError('--extension must be 2 to 10 digits.');
  if (flags.has('--generate') && options.has('--password')) throw new ConfigError('Give --password or --generate, not both.');
  const label = options.get('--label') ?? DEFAULT_DEVICE_LABEL;
  if (label.trim() === '') throw new ConfigError('--label must not be empty.');
  const generated = flags.has('--generate') ? randomBytes(12).toString('base64url') : undefined;
  const password = generated ?? options.get('--password') ?? (await io.readLine());
  if (password.length < MIN_DEVICE_PASSWORD_LENGTH) throw new ConfigError(`The SIP password must be at least ${MIN_DEVICE_PASSWORD_LENGTH} characters.`);

  const dir = resolve(options.get('--data-dir') ?? process.env.OFFHOOK_DATA_DIR ?? '.offhook-data');
  mkdirSync(dir, { recursive: true });
  const db = openDatabase(join(dir, 'offhook.db'));
  try {
    await migrateToLatest(db);
    const domain = options.get('--organization');
    let organization;
    if (domain) {
      organization = await findOrganizationByDomain(db, domain);
      if (!organization) throw new ConfigError(`There is no organization with the domain ${domain}.`);
    } else {
      const all = await listOrganizations(db);
      if (all.length !== 1) throw new ConfigError(all.length === 0 ? 'There is no organization yet.' : 'This server hosts several organizations: give --organization DOMAIN.');
      organization = all[0]!;
    }
    const user = await findUserByExtension(db, organization.id, extension);
    if (!user) throw new ConfigError(`There is no extension ${extension} in ${organization.domain}.`);
    log.debug('setting a device password from the command line', { extension, label });
    await setDevicePassword(db, user.id, password, label);
    io.stdout(
      [
        `Set the SIP password "${label}" of ${extension} (${user.display_name}).`,
        `  user name / auth ID  ${extension}`,
        `  domain / realm       ${organization.domain}`,
        ...(generated ? [`  password             ${generated}   (shown once; only its digest is stored)`] : []),
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await closeDatabase(db);
  }
}
