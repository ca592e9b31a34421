/**
 * Freezes a value shared between callers (a cached read, a remembered parse) and every plain object inside
 * it, so that a caller changing it fails loudly instead of changing what others read. Parts already frozen
 * (themselves shared, such as a remembered URI inside a name-addr) are left as they are.
 */
export function deepFreeze<T extends object>(value: T): T {
  for (const key in value) {
    const inner: unknown = value[key];
    if (typeof inner === 'object' && inner !== null && !Object.isFrozen(inner)) deepFreeze(inner);
  }
  return Object.freeze(value);
}
