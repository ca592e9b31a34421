/**
 * The one rule for what an extension is, for the PBX (routing, provisioning, the command line) and the app
 * (the dialer): 2 to 10 digits. Anything else dialled is a feature code (`*…`, `#…`) or an outside number.
 */
export const EXTENSION_PATTERN = /^[0-9]{2,10}$/;

export function isExtension(text: string): boolean {
  return EXTENSION_PATTERN.test(text);
}
