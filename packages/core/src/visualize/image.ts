/**
 * An 8-bit RGBA image, row-major, 4 bytes per pixel: the layout of the DOM's
 * `ImageData`, so a browser can show it with
 * `ctx.putImageData(new ImageData(image.data, image.width, image.height), 0, 0)`.
 */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** A 2-D map of numbers, row-major: `data[y * width + x]`. */
export interface ScalarMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Checks that `width × height` fits `length` values per pixel, naming `what` otherwise. */
export function checkSize(what: string, width: number, height: number, length: number, perPixel: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: width and height must be integers ≥ 1; got ${width} × ${height}`);
  }
  if (length !== width * height * perPixel) {
    throw new RangeError(`${what}: ${width} × ${height} needs ${width * height * perPixel} values; got ${length}`);
  }
}
