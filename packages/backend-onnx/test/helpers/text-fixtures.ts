import { readFileSync } from 'node:fs';

/** The fixtures of `fixtures/text/` (made by scripts/make-text-fixtures.py): model bytes and their float64 PyTorch reference. */
export const TEXT_FIXTURES = new URL('../fixtures/text/', import.meta.url);

export function readTextFixture<T>(name: string): { bytes: Uint8Array; reference: T } {
  const reference = JSON.parse(readFileSync(new URL(`${name}.json`, TEXT_FIXTURES), 'utf8')) as T;
  return { bytes: readFileSync(new URL(`${name}.onnx`, TEXT_FIXTURES)), reference };
}
