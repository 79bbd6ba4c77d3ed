import type { FixtureFiles } from '../src/suite/fixture.js';

/** The fixtures, served by the static server under /fixtures/. */
export const fixtureFilesOverHttp: FixtureFiles = {
  async text(path) {
    const response = await fetch(`/fixtures/${path}`);
    if (!response.ok) throw new Error(`GET /fixtures/${path}: ${response.status}`);
    return response.text();
  },
  async bytes(path) {
    const response = await fetch(`/fixtures/${path}`);
    if (!response.ok) throw new Error(`GET /fixtures/${path}: ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  },
};
