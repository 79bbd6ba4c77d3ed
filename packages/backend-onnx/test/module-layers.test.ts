import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/*
 * The layers of src/, lowest first: proto/ and model/ (the ONNX format),
 * passes/ (rewrites of a model before it is differentiated: float16, int8),
 * execution-provider/ (what each ONNX Runtime EP runs), ops/ (one definition
 * per op), backward/ (modified backward rule sets over the ops' rules),
 * autodiff/ (graph inference and the gradient graph), device-noise/ (core's
 * noise as a WebGPU compute pass), runtime/ (the backend), export/ (a method as one standalone ONNX model). Imports point down only. Inside ops/, the op-family files are
 * leaves: they import the shared helper modules, never one another, and
 * registry.ts lists every family.
 */

const SRC = new URL('../src/', import.meta.url);
const LAYERS = ['proto', 'model', 'passes', 'execution-provider', 'ops', 'backward', 'autodiff', 'device-noise', 'runtime', 'export'];
/** The modules of ops/ that are not op families. */
const OPS_HELPERS = new Set([
  'op-definition.ts',
  'rule-helpers.ts',
  'window.ts',
  'layout.ts',
  'tensor-math.ts',
  'first-extremum.ts',
  'axis-map.ts',
  'scatter.ts',
]);

/** The relative import specifiers of a source file (static imports and re-exports). */
function relativeImports(folder: string, file: string): string[] {
  const text = readFileSync(new URL(`${folder}/${file}`, SRC), 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)].map((m) => m[1]!);
}

const sources = (folder: string) => readdirSync(new URL(`${folder}/`, SRC)).filter((f) => f.endsWith('.ts'));
const folderOf = (from: string, specifier: string) => (specifier.startsWith('./') ? from : specifier.split('/')[1]!);
const familyFiles = sources('ops').filter((f) => !OPS_HELPERS.has(f) && f !== 'registry.ts');

describe('module layers of src/', () => {
  it('every import points to the same layer or a lower one', () => {
    const upward: string[] = [];
    for (const folder of LAYERS) {
      for (const file of sources(folder)) {
        for (const specifier of relativeImports(folder, file)) {
          const target = folderOf(folder, specifier);
          if (LAYERS.indexOf(target) > LAYERS.indexOf(folder)) upward.push(`${folder}/${file} → ${specifier}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it('no module under ops/ imports autodiff/ or runtime/', () => {
    const offending = sources('ops').flatMap((file) =>
      relativeImports('ops', file)
        .filter((s) => s.startsWith('../autodiff/') || s.startsWith('../runtime/'))
        .map((s) => `ops/${file} → ${s}`),
    );
    expect(offending).toEqual([]);
  });

  it('op families import only the helper modules of ops/, never another family', () => {
    expect(familyFiles.length).toBeGreaterThanOrEqual(11);
    const crossings = familyFiles.flatMap((file) =>
      relativeImports('ops', file)
        .filter((s) => s.startsWith('./') && !OPS_HELPERS.has(s.slice(2).replace(/\.js$/, '.ts')))
        .map((s) => `ops/${file} → ${s}`),
    );
    expect(crossings).toEqual([]);
  });

  it('the helper modules of ops/ import no family', () => {
    const upward = [...OPS_HELPERS].flatMap((file) =>
      relativeImports('ops', file)
        .filter((s) => s.startsWith('./') && !OPS_HELPERS.has(s.slice(2).replace(/\.js$/, '.ts')))
        .map((s) => `ops/${file} → ${s}`),
    );
    expect(upward).toEqual([]);
  });

  it('the registry imports every family directly', () => {
    const listed = new Set(relativeImports('ops', 'registry.ts').map((s) => s.slice(2).replace(/\.js$/, '.ts')));
    expect(familyFiles.filter((file) => !listed.has(file))).toEqual([]);
  });
});
