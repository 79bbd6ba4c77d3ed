export interface ChildFuzzResult {
  readonly ok: boolean;
  readonly seed: number;
  /** Cases that finished. */
  readonly cases: number;
  /** Peak RSS of the child seen by the watchdog, in bytes. */
  readonly peakRss: number;
  /** Outcomes and how often: 'map' or an error code. */
  readonly tally: Record<string, number>;
  readonly failure?: string;
}

export declare function runChildFuzz(options: {
  script: string;
  seed: number;
  cases: number;
  first?: number;
  rssCap?: number;
  heapCapMiB?: number;
  caseTimeoutMs?: number;
  log?: (line: string) => void;
}): Promise<ChildFuzzResult>;

export declare function soak(script: string, args: readonly string[], usage: string): Promise<number>;

export declare function runCases<T extends { description: string }>(
  seed: number,
  first: number,
  cases: readonly T[],
  run: (item: T) => Promise<string>,
): Promise<void>;
