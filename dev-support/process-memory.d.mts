/** Live JS heap and resident set size after a full collection, in bytes. */
export declare function memoryAfterGc(): { heapUsed: number; rss: number };
export declare const MiB: number;
