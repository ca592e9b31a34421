/**
 * Kamailio as the reference registrar and stateful proxy for the SIP benchmarks: our own instance with a
 * config written into a temp folder, never the Debian package's service. It does what the PBX does for the
 * same SIPp scenarios: digest authentication of REGISTER (401) and INVITE (407) with single-use nonces,
 * an in-memory location table (usrloc without a database), and `t_relay` of calls to the registered callee.
 * Passwords are held in an htable filled from the config itself, so no database is needed.
 *
 * REGISTER and INVITE are answered inside a transaction (t_newtran), so a retransmission is absorbed, as the
 * PBX's transaction layer absorbs it, instead of meeting a one-time nonce already spent and drawing a new 401.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KAMAILIO_INSTALL_HINT = 'Kamailio is not installed; for the side-by-side figures install it (Debian: sudo apt-get install kamailio) and run `npm run bench` again.';

export function findKamailio(): string | undefined {
  for (const path of ['/usr/sbin/kamailio', '/usr/local/sbin/kamailio']) if (existsSync(path)) return path;
  const which = spawnSync('which', ['kamailio'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

export function kamailioVersion(binary: string): string {
  const out = spawnSync(binary, ['-v'], { encoding: 'utf8' }).stdout ?? '';
  return /version:\s*(\S+\s+\S+)/.exec(out)?.[1] ?? 'unknown';
}

function modulesDir(): string {
  for (const dir of ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules', '/usr/local/lib64/kamailio/modules']) {
    if (existsSync(join(dir, 'tm.so'))) return dir;
  }
  throw new Error('Kamailio\'s modules folder was not found');
}

export interface KamailioUser {
  extension: string;
  password: string;
}

function config(options: { port: number; domain: string; users: readonly KamailioUser[]; children: number; bufferBytes: number }): string {
  const users = options.users.map((u) => `\t$sht(users=>${u.extension}) = "${u.password}";`).join('\n');
  return `#!KAMAILIO
# Written by Offhook's bench: a registrar and stateful proxy comparable to the PBX's SIP core.
debug=1
log_stderror=yes
fork=yes
children=${options.children}
tcp_children=${options.children}
auto_aliases=no
listen=udp:127.0.0.1:${options.port}
listen=tcp:127.0.0.1:${options.port}
alias="${options.domain}"
# Probe the UDP receive buffer up to this size (Linux caps it at net.core.rmem_max).
maxbuffer=${options.bufferBytes}

mpath="${modulesDir()}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "htable.so"
loadmodule "auth.so"
loadmodule "ctl.so"

modparam("ctl", "binrpc", "unix:${'$'}{CTL_SOCKET}")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
modparam("htable", "htable", "users=>size=${Math.max(4, Math.ceil(Math.log2(Math.max(1, options.users.length))))};")
# Single-use nonces, as the PBX's.
modparam("auth", "nonce_count", 0)
modparam("auth", "one_time_nonce", 1)
modparam("auth", "otn_in_flight_no", 1048576)
modparam("auth", "secret", "offhook-bench")

event_route[htable:mod-init] {
${users}
}

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (has_totag()) {
		if (loose_route()) {
			t_relay();
			exit;
		}
		if (is_method("ACK")) {
			if (t_check_trans()) t_relay();
			exit;
		}
		sl_send_reply("404", "Not here");
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) t_relay();
		exit;
	}
	# A retransmission of a request in a transaction is answered from it, and the script ends here.
	t_check_trans();
	if (is_method("REGISTER|INVITE") && !t_newtran()) {
		sl_reply_error();
		exit;
	}
	if (is_method("REGISTER")) {
		if (!pv_www_authenticate("$td", "$sht(users=>$tU)", "0")) {
			www_challenge("$td", "0");
			exit;
		}
		consume_credentials();
		if (!save("location")) sl_reply_error();
		exit;
	}
	if (is_method("INVITE")) {
		if (!pv_proxy_authenticate("$fd", "$sht(users=>$fU)", "0")) {
			proxy_challenge("$fd", "0");
			exit;
		}
		consume_credentials();
		record_route();
	}
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		exit;
	}
	t_relay();
}
`;
}

export interface RunningKamailio {
  port: number;
  pids(): number[];
  stop(): Promise<void>;
}

export async function startKamailio(binary: string, options: { port: number; domain: string; users: readonly KamailioUser[]; children?: number; bufferBytes?: number }): Promise<RunningKamailio> {
  const work = mkdtempSync(join(tmpdir(), 'offhook-kamailio-'));
  const configFile = join(work, 'kamailio.cfg');
  const pidFile = join(work, 'kamailio.pid');
  writeFileSync(configFile, config({ ...options, children: options.children ?? 2, bufferBytes: options.bufferBytes ?? 4 * 1024 * 1024 }).replace('${CTL_SOCKET}', join(work, 'ctl.sock')));
  const check = spawnSync(binary, ['-c', '-f', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`Kamailio refused the bench config:\n${check.stderr}`);
  // -DD: stay in the foreground with the children forked; -E: log to stderr; -w: working folder.
  const child: ChildProcess = spawn(binary, ['-DD', '-E', '-f', configFile, '-P', pidFile, '-w', work, '-m', '256', '-M', '16'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-10_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, 1_000));
  if (child.exitCode !== null) throw new Error(`Kamailio exited at start:\n${log}`);
  return {
    port: options.port,
    pids() {
      const out = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout ?? '';
      return [child.pid ?? 0, ...out.split('\n').filter(Boolean).map(Number)];
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(work, { recursive: true, force: true });
    },
  };
}
