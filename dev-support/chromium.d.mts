import type { BrowserContext } from 'playwright-core';

export declare const CHROMIUM_PATH: string;
export declare const CHROMIUM_ARGS: readonly string[];
export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}
export declare function launchChromium(options?: { viewport?: { width: number; height: number } }): Promise<Browser>;
export declare function withChromium<T>(
  work: (context: BrowserContext) => Promise<T>,
  options?: { viewport?: { width: number; height: number } },
): Promise<T>;
