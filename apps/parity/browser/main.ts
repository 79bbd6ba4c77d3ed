import { loadFixture } from '../src/suite/fixture.js';
import type { ParityPage } from '../src/suite/page-api.js';
import { runSuite } from '../src/suite/run-suite.js';
import { browserColumn } from './browser-columns.js';
import './device-noise-page.js';
import './float16-page.js';
import { fixtureFilesOverHttp } from './fixture-files.js';

const log = document.getElementById('log')!;

const page = window as unknown as ParityPage;

/** The same suite as in Node, on the Chromium column of one runtime, in this page. */
page.runParity = async (runtime, fixtureNames, rows) => {
  const fixtures = await Promise.all(fixtureNames.map((name) => loadFixture(name, fixtureFilesOverHttp)));
  const column = await browserColumn(runtime);
  return runSuite(fixtures, [column], {
    ...(rows ? { rows } : {}),
    onCell(cell) {
      log.textContent += `${cell.fixture} ${cell.row} ${cell.status}\n`;
      const { map: _, ...withoutMap } = cell;
      void page.parityCell?.(withoutMap);
    },
  });
};
