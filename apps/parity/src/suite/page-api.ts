import type { RuntimeId } from '@saliency/core';
import type { CellResult, ParityRow, SuiteResult } from './results.js';

/** What the browser page (browser/main.ts) puts on `window` for the Node process that drives it. */
export interface ParityPage {
  /** The suite on the Chromium column of one runtime (see browser/browser-columns.ts) for the named fixtures and rows (default every row). */
  runParity(runtime: RuntimeId, fixtureNames: string[], rows?: ParityRow[]): Promise<SuiteResult>;
  /** Exposed by the driving Node process to log progress; absent when the page is opened by hand. */
  parityCell?: (cell: CellResult) => Promise<void>;
}
