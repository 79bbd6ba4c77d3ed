import { build } from 'vite';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The packages must bundle for a browser: Vite resolves core and the TF.js
 * backend through their `exports` maps and must find no Node built-in or
 * unresolved import on the way.
 */
describe('the browser example', () => {
  it('bundles with Vite', async () => {
    const result = await build({
      root: fileURLToPath(new URL('../browser', import.meta.url)),
      logLevel: 'silent',
      build: { write: false, target: 'es2022' },
    });
    const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => ('output' in r ? r.output : []));
    const chunks = outputs.filter((o) => o.type === 'chunk');
    expect(chunks.length).toBeGreaterThan(0);
    const code = chunks.map((c) => ('code' in c ? c.code : '')).join('\n');
    // Checked as booleans: on failure, printing a minified bundle helps no one.
    expect(code.includes('AttributionError'), 'core is in the bundle').toBe(true);
    expect(code.includes('tfjs-'), 'the TF.js backend is in the bundle').toBe(true);
    expect(/from\s*["']node:/.test(code), 'no Node built-in is imported').toBe(false);
    expect(/from\s*["']@saliency\//.test(code), 'every @saliency import is resolved').toBe(false);
  }, 120_000);
});
