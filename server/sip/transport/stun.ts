/**
 * The one STUN exchange a SIP server on UDP must answer (RFC 5626 §4.4.2, §8): a Binding request on the SIP
 * port, used by devices as a keep-alive, answered with a Binding success response whose XOR-MAPPED-ADDRESS
 * tells the device how it is seen (RFC 5389 §7.3, §15.2). Everything else STUN can do is left out.
 */
import { isIP } from 'node:net';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;
const HEADER_BYTES = 20;

/** Whether a datagram is a STUN message: the top two bits zero and the magic cookie (RFC 5389 §6). */
export function isStun(data: Buffer): boolean {
  return data.length >= HEADER_BYTES && (data[0] ?? 0xff) < 0x40 && data.readUInt32BE(4) === MAGIC_COOKIE;
}

/** The response to a STUN Binding request from `address`:`port`, or undefined if `data` is not one. */
export function stunBindingResponse(data: Buffer, address: string, port: number): Buffer | undefined {
  if (!isStun(data) || data.readUInt16BE(0) !== BINDING_REQUEST) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  const transactionId = data.subarray(8, HEADER_BYTES);
  const addressBytes = family === 4 ? ipv4Bytes(address) : ipv6Bytes(address);
  const valueLength = 4 + addressBytes.length;
  const out = Buffer.alloc(HEADER_BYTES + 4 + valueLength);
  out.writeUInt16BE(BINDING_SUCCESS, 0);
  out.writeUInt16BE(4 + valueLength, 2);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(out, 8);
  out.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
  out.writeUInt16BE(valueLength, 22);
  out.writeUInt8(0, 24);
  out.writeUInt8(family === 4 ? 0x01 : 0x02, 25);
  out.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 26);
  // The address is XORed with the cookie, and for IPv6 with the cookie followed by the transaction id.
  const mask = Buffer.concat([out.subarray(4, 8), transactionId]);
  for (let i = 0; i < addressBytes.length; i++) out[28 + i] = (addressBytes[i] ?? 0) ^ (mask[i] ?? 0);
  return out;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map((part) => Number(part)));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::', 2) as [string, string | undefined];
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(Number.parseInt(group, 16) || 0, i * 2));
  return out;
}
