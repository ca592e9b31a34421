#!/usr/bin/env node
/**
 * offhook-pbx: run the PBX and provision its users.
 *
 *   offhook-pbx serve [--demo] [--http-port N] [--bind ADDR] [--data-dir DIR] ...
 *   offhook-pbx user add --organization DOMAIN --extension N --name "Full Name" [--password P] [--role admin]
 *   offhook-pbx user list [--organization DOMAIN]
 *   offhook-pbx user passwd [--organization DOMAIN] --extension N [--password P]
 *
 * Passwords not given as a flag are read from standard input (one line), so they stay out of shell history.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { ConfigError, parseServeConfig, SETTINGS } from './config';
import { startPbx } from './pbx';
import { describeResourceLimits } from './resource-limits';
import { installProcessGuard } from './process-guard';
import { closeDatabase, openDatabase } from './store/db';
import { migrateToLatest } from './store/migrate';
import { ensureOrganization, findOrganizationByDomain, listOrganizations } from './store/organizations';
import type { Database } from './store/schema';
import { createUser, findUserByExtension, listUsers, setPassword } from './store/users';
import { runDevicePasswordCommand, DEVICE_PASSWORD_USAGE } from './cli-device';
import { DEMO_USERS } from './store/demo';
import { PBX_VERSION } from './version';
import { isExtension } from '../shared/extensions';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/server/cli.js → dist/renderer */
const DEFAULT_WEB_ROOT = resolve(here, '../renderer');

const USAGE = `offhook-pbx ${PBX_VERSION}

Usage:
  offhook-pbx serve [options]       run the PBX
  offhook-pbx user add|list|passwd|sip-password  provision extensions and desk-phone passwords
  offhook-pbx help

serve options (flag, environment variable):
${Object.values(SETTINGS)
  .map((s) => `  ${s.flag.padEnd(16)} ${s.env.padEnd(22)} ${s.help}`)
  .join('\n')}

user options:
  --organization DOMAIN   the organization's SIP domain (needed when the server hosts several)
  --extension N           2 to 10 digits
  --name "Full Name"      display name (user add)
  --password P            otherwise read from standard input
  --role user|admin       (user add; default user)
  --data-dir DIR          as for serve

desk phones:
  ${DEVICE_PASSWORD_USAGE}
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'user':
      return user(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
      process.stdout.write(`${PBX_VERSION}\n`);
      return 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

async function serve(args: string[]): Promise<number> {
  // `serve --help` is how people ask; it answers with the usage rather than refusing an unknown option.
  if (args.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = parseServeConfig(args, process.env, { webRoot: DEFAULT_WEB_ROOT });
  // Before anything listens: no stray error ends the process (and every call with it), not even one from a
  // request that arrives while the start-up is still sending its recovery BYEs. A failed start is an awaited
  // rejection, which the guard does not catch: it still ends the command with its message.
  installProcessGuard();
  const pbx = await startPbx(config);
  const lines = [
    `Offhook PBX ${PBX_VERSION} is running.`,
    `  web phone      ${pbx.httpUrl}/`,
    `  REST API       ${pbx.httpUrl}/api/v1`,
    `  SIP over WS    ${pbx.sipWebSocketUrl}`,
    `  web phone (TLS) ${pbx.httpsUrl ? `${pbx.httpsUrl}/` : 'off (--https-port)'}`,
    `  SIP over WSS   ${pbx.sipSecureWebSocketUrl ?? 'off (--https-port)'}`,
    `  SIP over UDP   ${sipAddress(config.sipHost, pbx.sipPorts.udp, 'udp')}`,
    `  SIP over TCP   ${sipAddress(config.sipHost, pbx.sipPorts.tcp, 'tcp')}`,
    `  SIP over TLS   ${sipAddress(config.sipHost, pbx.sipPorts.tls, 'tls')}${pbx.tlsCertificate ? `  certificate ${pbx.tlsCertificate}` : ''}`,
    `  bind address   ${config.bind}`,
    `  HTTP port      ${new URL(pbx.httpUrl).port}`,
    `  media address  ${config.mediaAddress}${config.mediaPortRange ? ` ports ${config.mediaPortRange.join('-')}` : ''}`,
    `  SIP host       ${config.sipHost}`,
    `  SIP trusted    ${config.sipTrustedSources?.length ? config.sipTrustedSources.join(', ') : 'none (every source is rate-limited)'}`,
    ...describeResourceLimits(pbx.limits),
    `  SIP requests   ${config.sipRequestsPerSecond}/s per address, bursts of ${config.sipRequestBurst}; beyond, dropped unanswered`,
    `  guessing       ban ${config.authBanS} s after ${config.authFailuresBeforeBan} failures of an address at one account, or failures at ${config.authSprayAccountsBeforeBan} accounts (registered devices and calls go on);`,
    `                 an account waits after ${config.accountFreeFailures} failures from anywhere, doubling up to ${config.accountDelayMaxS} s (not for its known devices)`,
    `  heartbeat      every ${config.heartbeatS} s (calls cut off by a crash end there)`,
    `  sign-in        ${config.listOrganizationsAtSignIn ? 'several organizations: their names are offered' : 'several organizations: the SIP address is asked for (--list-organizations-at-sign-in)'}`,
    `  data folder    ${config.dataDir}`,
    `  web phone from ${config.webRoot}`,
  ];
  if (config.demo) {
    lines.push('  demo organization "Demo Company" (demo.offhook.test):');
    for (const u of DEMO_USERS) lines.push(`    ${u.extension}  ${u.displayName.padEnd(12)} password ${u.password}${u.role === 'admin' ? '  (admin)' : ''}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: hanging up calls and stopping…\n`);
    pbx.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Could not stop cleanly: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return new Promise<number>(() => undefined);
}

function sipAddress(host: string, port: number | undefined, transport: string): string {
  if (port === undefined) return 'off';
  return `sip:${host.includes(':') ? `[${host}]` : host}:${port};transport=${transport}`;
}

function options(args: string[], allowed: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    if (!allowed.includes(name)) throw new ConfigError(`Unknown option ${name}.`);
    const value = inline ?? args[++i];
    if (value === undefined) throw new ConfigError(`${name} needs a value.`);
    found.set(name, value);
  }
  return found;
}

async function withStore<T>(dataDir: string | undefined, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const dir = resolve(dataDir ?? process.env.OFFHOOK_DATA_DIR ?? '.offhook-data');
  mkdirSync(dir, { recursive: true });
  const db = openDatabase(join(dir, 'offhook.db'));
  try {
    await migrateToLatest(db);
    return await work(db);
  } finally {
    await closeDatabase(db);
  }
}

async function resolveOrganization(db: Kysely<Database>, domain: string | undefined, createName?: string) {
  if (domain) {
    const found = await findOrganizationByDomain(db, domain.toLowerCase());
    if (found) return found;
    if (createName !== undefined) return ensureOrganization(db, { name: createName || domain, domain: domain.toLowerCase() });
    throw new ConfigError(`There is no organization with the domain ${domain}.`);
  }
  const all = await listOrganizations(db);
  if (all.length === 1 && all[0]) return all[0];
  throw new ConfigError(all.length === 0 ? 'There is no organization yet: give --organization DOMAIN to create one.' : 'This server hosts several organizations: give --organization DOMAIN.');
}

async function readPassword(given: string | undefined): Promise<string> {
  if (given) return given;
  if (process.stdin.isTTY) process.stdout.write('Password: ');
  const rl = createInterface({ input: process.stdin });
  const line = await new Promise<string>((resolveLine) => rl.once('line', resolveLine).once('close', () => resolveLine('')));
  rl.close();
  if (line.length < 8) throw new ConfigError('The password must be at least 8 characters.');
  return line;
}

async function user(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const common = ['--organization', '--data-dir'];
  if (sub === 'add') {
    const o = options(rest, [...common, '--extension', '--name', '--password', '--role', '--org-name']);
    const extension = o.get('--extension');
    const name = o.get('--name');
    const role = o.get('--role') ?? 'user';
    if (!extension || !isExtension(extension)) throw new ConfigError('--extension must be 2 to 10 digits.');
    if (!name) throw new ConfigError('--name is required.');
    if (role !== 'user' && role !== 'admin') throw new ConfigError('--role must be user or admin.');
    const password = await readPassword(o.get('--password'));
    if (password.length < 8) throw new ConfigError('The password must be at least 8 characters.');
    await withStore(o.get('--data-dir'), async (db) => {
      const org = await resolveOrganization(db, o.get('--organization'), o.get('--org-name') ?? '');
      await createUser(db, { organizationId: org.id, extension, displayName: name, password, role });
      process.stdout.write(`Added ${extension} (${name}) to ${org.domain}.\n`);
    });
    return 0;
  }
  if (sub === 'list') {
    const o = options(rest, common);
    await withStore(o.get('--data-dir'), async (db) => {
      const orgs = o.get('--organization') ? [await resolveOrganization(db, o.get('--organization'))] : await listOrganizations(db);
      for (const org of orgs) {
        process.stdout.write(`${org.name} (${org.domain})\n`);
        for (const u of await listUsers(db, org.id)) process.stdout.write(`  ${u.extension.padEnd(8)} ${u.display_name}${u.role === 'admin' ? '  (admin)' : ''}\n`);
      }
    });
    return 0;
  }
  if (sub === 'passwd') {
    const o = options(rest, [...common, '--extension', '--password']);
    const extension = o.get('--extension');
    if (!extension) throw new ConfigError('--extension is required.');
    const password = await readPassword(o.get('--password'));
    if (password.length < 8) throw new ConfigError('The password must be at least 8 characters.');
    await withStore(o.get('--data-dir'), async (db) => {
      const org = await resolveOrganization(db, o.get('--organization'));
      const found = await findUserByExtension(db, org.id, extension);
      if (!found) throw new ConfigError(`There is no extension ${extension} in ${org.domain}.`);
      // Signs the user out everywhere, a running server included: it reads the same file (store/users.ts).
      const ended = await setPassword(db, found.id, password);
      const signedOut = ended === 0 ? '' : ` Ended ${ended} sign-in session${ended === 1 ? '' : 's'}: the app must sign in again with the new password.`;
      process.stdout.write(`Changed the password of ${extension}.${signedOut}\n`);
    });
    return 0;
  }
  if (sub === 'sip-password') return runDevicePasswordCommand(rest);
  throw new ConfigError('Use "user add", "user list", "user passwd" or "user sip-password".');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || (error instanceof Error && /already exists/.test(error.message))) {
      process.stderr.write(`offhook-pbx: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`offhook-pbx: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
