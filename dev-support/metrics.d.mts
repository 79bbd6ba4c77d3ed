/** max |actual − expected| / max |expected|: the error measure the tests and reports use. */
export declare function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number;
