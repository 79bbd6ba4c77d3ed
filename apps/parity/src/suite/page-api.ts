import type { RuntimeId } from '@saliency/core';
import type { CellResult, SuiteResult } from './results.js';

/** What the browser page (browser/main.ts) puts on `window` for the Node process that drives it. */
export interface ParityPage {
  /** The suite on the Chromium column of one runtime (see browser/browser-columns.ts) for the named fixtures. */
  runParity(runtime: RuntimeId, fixtureNames: string[]): Promise<SuiteResult>;
  /** Exposed by the driving Node process to log progress; absent when the page is opened by hand. */
  parityCell?: (cell: CellResult) => Promise<void>;
}
