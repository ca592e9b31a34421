/**
 * Copies that share no memory with what they were made from, for data kept long after the message it came
 * in (or went out with) is done:
 * - Node serves small buffers as slices of shared 8 KB slabs, and a slab lives as long as any slice of it. A
 *   body or a prepared message kept 32 s by a lingering transaction would keep its whole slab, and with it
 *   the bytes of every other message that shared it.
 * - V8 keeps a substring as a view of its parent string, so a tag or a contact cut from a message keeps the
 *   whole message's text alive for as long as it is kept.
 */

/** Bytes in a buffer of their own. */
export function ownBytes(data: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(data.length);
  data.copy(own);
  return own;
}

/** A string's UTF-8 bytes in a buffer of their own (a message body kept with its message). */
export function ownUtf8(text: string): Buffer {
  const own = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  own.write(text, 'utf8');
  return own;
}

/** A copy of a string that is not a view of the one it was cut from. */
export function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
