// @ts-check
/**
 * `local/through-entry`: a folder that is a module of its own (a feature, the JsSIP engine) is entered from
 * outside only through its `index.ts`; inside the folder, its files import each other freely. Relative imports are
 * resolved against the importing file, so `../calls/phone-store` and `../../features/calls/phone-store` are both
 * caught, whatever the depth of the importer.
 *
 * Options: `{ modules: ['renderer/features/*', 'renderer/phone/jssip'] }`, paths from the project root, where `*`
 * stands for any one folder name.
 */
import path from 'node:path';

const ENTRY_FILES = new Set(['index', 'index.ts', 'index.js']);

/** @param {string} pattern */
function segments(pattern) {
  return pattern.split('/').filter(Boolean);
}

/**
 * The module folder `target` lies in, and the rest of its path inside that folder, or undefined.
 * @param {string[]} target
 * @param {string[]} pattern
 */
function moduleOf(target, pattern) {
  if (target.length < pattern.length) return undefined;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '*' && pattern[i] !== target[i]) return undefined;
  }
  return { folder: target.slice(0, pattern.length).join('/'), rest: target.slice(pattern.length) };
}

/** @type {import('eslint').Rule.RuleModule} */
export const throughEntry = {
  meta: {
    type: 'problem',
    docs: { description: 'A module folder is reached from outside only through its index.ts.' },
    schema: [
      {
        type: 'object',
        properties: { modules: { type: 'array', items: { type: 'string' } } },
        required: ['modules'],
        additionalProperties: false,
      },
    ],
    messages: {
      throughEntry: "'{{folder}}' is reached from outside only through its index.ts: import '{{entry}}' instead.",
    },
  },
  create(context) {
    const patterns = (/** @type {{ modules: string[] }} */ (context.options[0])).modules.map(segments);
    const importer = path.relative(context.cwd, context.filename).split(path.sep).join('/');
    const importerDir = path.posix.dirname(importer);

    /** @param {import('estree').Node | null | undefined} source */
    function check(source) {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const spec = source.value;
      if (!spec.startsWith('.')) return;
      const target = segments(path.posix.normalize(path.posix.join(importerDir, spec)));
      for (const pattern of patterns) {
        const found = moduleOf(target, pattern);
        if (!found) continue;
        if (importer.startsWith(`${found.folder}/`)) return;
        if (found.rest.length === 0 || (found.rest.length === 1 && ENTRY_FILES.has(found.rest[0] ?? ''))) return;
        const entry = path.posix.relative(importerDir, found.folder);
        context.report({
          node: source,
          messageId: 'throughEntry',
          data: { folder: found.folder, entry: entry.startsWith('.') ? entry : `./${entry}` },
        });
        return;
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export default { rules: { 'through-entry': throughEntry } };
