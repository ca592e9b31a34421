// @ts-check
/**
 * `local/layer-imports`: a folder of the PBX (a layer of docs/architecture.md's table) never imports the folders
 * it names. Relative imports are resolved against the importing file, so `../../store/users` from
 * `server/sip/edge/` and `../store/users` from `server/sip/` are the same import of `server/store`, while
 * `../../shared/api` is not an import of `server/api`: the path decides, never a name that looks alike.
 *
 * Options: `{ layers: [{ folder, never, typesOnly?, why }] }`, paths from the project root without extension.
 * A file in `folder` (at any depth) may not import anything in or at a path of `never`; from a path of
 * `typesOnly` it may import types alone (`import type`, or `import { type X }` with every name a type): an
 * interface a lower layer is handed, with the implementation wired in the composition root.
 */
import path from 'node:path';

const SOURCE_EXTENSION = /\.(?:[cm]?[jt]s|vue)$/;

/**
 * @typedef {{ folder: string, never?: string[], typesOnly?: string[], why: string }} Layer
 */

/** @param {string} at @param {string} folder */
function within(at, folder) {
  return at === folder || at.startsWith(`${folder}/`);
}

/**
 * Whether the declaration brings in types alone, which leave nothing behind at run time.
 * @param {any} node
 */
function typesAlone(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specifiers = node.specifiers ?? [];
  return specifiers.length > 0 && specifiers.every((/** @type {any} */ s) => s.importKind === 'type' || s.exportKind === 'type');
}

/** @type {import('eslint').Rule.RuleModule} */
export const layerImports = {
  meta: {
    type: 'problem',
    docs: { description: 'A PBX layer never imports the layers above it, nor the ones beside it that it must not know.' },
    schema: [
      {
        type: 'object',
        properties: {
          layers: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                folder: { type: 'string' },
                never: { type: 'array', items: { type: 'string' } },
                typesOnly: { type: 'array', items: { type: 'string' } },
                why: { type: 'string' },
              },
              required: ['folder', 'why'],
              additionalProperties: false,
            },
          },
        },
        required: ['layers'],
        additionalProperties: false,
      },
    ],
    messages: {
      never: "'{{layer}}' never imports '{{target}}': {{why}}",
      typesOnly: "'{{layer}}' imports only types (import type) from '{{target}}': {{why}}",
    },
  },
  create(context) {
    const layers = /** @type {{ layers: Layer[] }} */ (context.options[0]).layers;
    const importer = path.relative(context.cwd, context.filename).split(path.sep).join('/');
    const mine = layers.filter((layer) => importer.startsWith(`${layer.folder}/`));
    if (mine.length === 0) return {};
    const importerDir = path.posix.dirname(importer);

    /** @param {any} node the import or export declaration, or the import() expression */
    function check(node) {
      const source = node.source;
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = path.posix.normalize(path.posix.join(importerDir, source.value)).replace(SOURCE_EXTENSION, '');
      for (const layer of mine) {
        const refused = layer.never?.find((folder) => within(target, folder));
        if (refused) {
          context.report({ node: source, messageId: 'never', data: { layer: layer.folder, target: refused, why: layer.why } });
          return;
        }
        const typed = layer.typesOnly?.find((folder) => within(target, folder));
        if (typed && (node.type === 'ImportExpression' || !typesAlone(node))) {
          context.report({ node: source, messageId: 'typesOnly', data: { layer: layer.folder, target: typed, why: layer.why } });
          return;
        }
      }
    }

    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};
