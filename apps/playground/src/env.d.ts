/// <reference types="vite/client" />

declare module 'virtual:example-mnist' {
  /** URL prefix of the bundled example's files. */
  export const EXAMPLE_URL: string;
  /** The bundled digit images, relative to EXAMPLE_URL (`digits/….png`). */
  export const DIGITS: readonly string[];
}
