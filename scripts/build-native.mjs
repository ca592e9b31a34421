// `npm install` runs this: builds the native media relay (server/media/native/relay.c, binding.gyp) with
// node-gyp. The relay is a fast path; where it cannot be built (not Linux, no C compiler) the PBX relays
// RTP through Node's sockets, and this says so without failing the install. In CI a failed build fails,
// so that the tests and benchmarks there always measure the relay that ships.
import { spawnSync } from 'node:child_process';

if (process.platform !== 'linux') {
  process.stdout.write(`native media relay: not built on ${process.platform}; the PBX relays RTP through Node sockets\n`);
  process.exit(0);
}
// npm names its own node-gyp to install scripts; run by hand, the one on PATH.
const gyp = process.env.npm_config_node_gyp;
const result = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild', '--loglevel=warn'], { stdio: 'inherit' })
  : spawnSync('node-gyp', ['rebuild', '--loglevel=warn'], { stdio: 'inherit' });
if (result.status === 0) {
  process.stdout.write('native media relay: built (build/Release/offhook_relay.node)\n');
  process.exit(0);
}
const why = result.error ? result.error.message : `node-gyp exited with ${result.status}`;
process.stderr.write(`native media relay: not built (${why}); the PBX will relay RTP through Node sockets\n`);
process.exit(process.env.CI === 'true' ? 1 : 0);
