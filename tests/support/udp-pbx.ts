/**
 * The PBX in-process as desk phones meet it: the demo organization, SIP over UDP only (on a free port), media on
 * loopback, and its store in a fresh directory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeConfig } from '../../server/config';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';

/** Starts it with `extra` command-line flags; the caller closes it and removes `dataDir`. */
export async function startUdpPbx(name: string, extra: string[] = []): Promise<{ pbx: RunningPbx; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `offhook-${name}-`));
  const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', '0', '--sip-tcp-port', 'off', '--sip-tls-port', 'off', ...extra];
  const pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
  return { pbx, dataDir };
}
