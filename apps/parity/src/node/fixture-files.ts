import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadFixture, type FixtureFiles, type LoadedFixture } from '../suite/fixture.js';

/** apps/parity/fixtures, from src/node or dist/node. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** The fixtures the issue names, in report order. */
export const FIXTURE_NAMES = [
  'mlp',
  'cnn1d',
  'cnn_bn',
  'resnet_block',
  'image_model',
  'shufflenet',
  'sigmoid_head',
  'depthwise_separable',
] as const;

export function fixtureFiles(root = FIXTURES_DIR): FixtureFiles {
  return {
    text: (path) => readFile(`${root}/${path}`, 'utf8'),
    bytes: async (path) => new Uint8Array(await readFile(`${root}/${path}`)),
  };
}

/** Names of the fixtures present, checking that every expected one is. */
export async function presentFixtures(root = FIXTURES_DIR): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(`${root}/reference`);
  } catch {
    throw new Error(`no fixtures in ${root}: run the fixture script first (see apps/parity/README.md)`);
  }
  return files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
}

export async function loadFixtures(names: readonly string[], root = FIXTURES_DIR): Promise<LoadedFixture[]> {
  const files = fixtureFiles(root);
  return Promise.all(names.map((name) => loadFixture(name, files)));
}
