/**
 * Bounded fuzzing: random mutations of real messages (fixed seed, so a failure reproduces). Whatever the
 * input, the parsers either return a message or throw SipParseError, never another exception, and they
 * finish; a message they accept serialises to one they accept again, unchanged.
 */
import { describe, expect, it } from 'vitest';
import { ALL_JSSIP_MESSAGES } from './fixtures/jssip-messages';
import { crlf, tortureSdp } from './fixtures/sdp';
import {
  parseAuthorization, parseMessage, parseNameAddr, parseUri, parseVia, serializeMessage, SipParseError, SipStreamParser,
} from './message';
import type { SipMessage } from './message';
import { prng } from '../test-support';

const SEEDS: Buffer[] = [
  ...Object.values(ALL_JSSIP_MESSAGES).map((text) => Buffer.from(text)),
  Buffer.from(crlf(String.raw`INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

`) + tortureSdp('192.0.2.3', '192.0.2.4')),
];

/** Bytes that matter to the grammar, so that mutations hit interesting states more often than random octets. */
const SPECIAL = Buffer.from(' \t\r\n:;,="<>\\@%/?[]*0123456789\x00\xff');

function mutate(input: Buffer, random: () => number): Buffer {
  let out = input;
  const rounds = 1 + Math.floor(random() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(random() * out.length);
    const pick = () => (random() < 0.7 ? (SPECIAL[Math.floor(random() * SPECIAL.length)] ?? 0) : Math.floor(random() * 256));
    switch (Math.floor(random() * 6)) {
      case 0: {
        out = Buffer.from(out);
        out[at] = pick();
        break;
      }
      case 1: {
        const length = Math.floor(random() * 16);
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + length)]);
        break;
      }
      case 2: {
        const insert = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 8) }, pick));
        out = Buffer.concat([out.subarray(0, at), insert, out.subarray(at)]);
        break;
      }
      case 3: {
        const length = Math.floor(random() * 64);
        out = Buffer.concat([out.subarray(0, at + length), out.subarray(at)]);
        break;
      }
      case 4: {
        out = out.subarray(0, at);
        break;
      }
      default: {
        // Swap two lines: header order, start line in the middle, body before headers.
        const lines = out.toString('latin1').split('\r\n');
        const a = Math.floor(random() * lines.length);
        const b = Math.floor(random() * lines.length);
        [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
        out = Buffer.from(lines.join('\r\n'), 'latin1');
      }
    }
  }
  return out;
}

/** Runs `fn`; a SipParseError is an acceptable outcome, anything else fails the test with the input. */
function tolerate<T>(input: Buffer, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SipParseError) return undefined;
    throw new Error(`${String(error)} for input ${JSON.stringify(input.toString('latin1'))}`);
  }
}

function exercise(message: SipMessage, input: Buffer): void {
  for (const via of message.headers.getAll('Via')) expect(tolerate(input, () => parseVia(via))).toBeDefined();
  for (const name of ['From', 'To']) tolerate(input, () => parseNameAddr(message.headers.get(name) ?? ''));
  for (const contact of message.headers.getAll('Contact')) if (contact !== '*') tolerate(input, () => parseNameAddr(contact));
  for (const credentials of message.headers.getAll('Authorization')) tolerate(input, () => parseAuthorization(credentials));
  if (message.kind === 'request') tolerate(input, () => parseUri(message.uri));
  const again = parseMessage(serializeMessage(message));
  expect(again.headers.entries().filter(([n]) => n !== 'Content-Length')).toEqual(message.headers.entries().filter(([n]) => n !== 'Content-Length'));
  expect(again.body.equals(message.body)).toBe(true);
}

describe('fuzzing the parsers', () => {
  it('2,000 mutated datagrams: a message or a SipParseError, nothing else', () => {
    const random = prng(0x5eed);
    let accepted = 0;
    for (let n = 0; n < 2000; n++) {
      const input = mutate(SEEDS[n % SEEDS.length] ?? Buffer.alloc(0), random);
      const message = tolerate(input, () => {
        try {
          return parseMessage(input);
        } catch (error) {
          // Whoever answers it must know whether it was a request: a response is never answered (RFC 3261 §8.2).
          if (error instanceof SipParseError && error.partial) expect(error.kind, JSON.stringify(input.toString('latin1'))).toMatch(/^(request|response)$/);
          throw error;
        }
      });
      if (message) {
        accepted++;
        exercise(message, input);
      }
    }
    // Both outcomes must be well represented, or the mutations are not testing much.
    expect(accepted).toBeGreaterThan(200);
    expect(accepted).toBeLessThan(1900);
  });

  it('500 mutated byte streams, fed in random slices', () => {
    const random = prng(0xfeed);
    for (let n = 0; n < 500; n++) {
      const input = Buffer.concat([mutate(SEEDS[n % SEEDS.length] ?? Buffer.alloc(0), random), SEEDS[(n + 1) % SEEDS.length] ?? Buffer.alloc(0)]);
      const parser = new SipStreamParser({ maxMessageBytes: 4096 });
      for (let i = 0; i < input.length;) {
        const size = 1 + Math.floor(random() * 300);
        const chunk = input.subarray(i, i + size);
        i += size;
        if (!tolerate(input, () => parser.push(chunk))) break;
      }
    }
  });

  it('random header values for the structured parsers', () => {
    const random = prng(0xbeef);
    const alphabet = 'sip:SIP/2.0/UDP tel:+1 "\\<>;,=@%[]:.-_ab09\t';
    for (let n = 0; n < 3000; n++) {
      let text = '';
      const length = Math.floor(random() * 40);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const input = Buffer.from(text);
      tolerate(input, () => parseUri(text));
      tolerate(input, () => parseVia(text));
      tolerate(input, () => parseNameAddr(text));
      tolerate(input, () => parseAuthorization(text));
    }
  });

  it('pathological input finishes quickly', () => {
    const started = performance.now();
    const quotes = `INVITE sip:a@b SIP/2.0\r\nTo: ${'"\\'.repeat(20000)}\r\nContact: ${'<'.repeat(20000)}\r\nVia: ${'SIP/2.0/UDP a;'.repeat(5000)}\r\n\r\n`;
    expect(() => parseMessage(quotes)).toThrow(SipParseError);
    expect(() => parseMessage(`${'\n'.repeat(100000)}x`)).toThrow(SipParseError);
    expect(() => parseMessage(`OPTIONS sip:a@b SIP/2.0\r\n${' x\r\n'.repeat(20000)}\r\n`)).toThrow(SipParseError);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
