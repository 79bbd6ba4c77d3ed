/** Awaits `promise` and returns what it rejects with; throws if it resolves, or rejects with something other than `type`. */
export declare function rejection<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E>;
export declare function rejection(promise: Promise<unknown>): Promise<unknown>;
