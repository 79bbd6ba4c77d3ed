import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbaImage } from '@saliency/core/visualize';
import { CliError } from './errors.js';

/**
 * Decodes a PNG or JPEG file's bytes (told apart by their signature) to RGBA.
 * Gray, palette and 16-bit PNGs come out as 8-bit RGBA too.
 */
export function decodeImage(bytes: Uint8Array, name = 'the image'): RgbaImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (buffer.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      const png = PNG.sync.read(buffer);
      return { width: png.width, height: png.height, data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length) };
    }
    if (buffer[0] === 0xff && buffer[1] === 0xd8) {
      const decoded = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true });
      return {
        width: decoded.width,
        height: decoded.height,
        data: new Uint8ClampedArray(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length),
      };
    }
  } catch (error) {
    throw new CliError(`${name} could not be decoded: ${(error as Error).message}`);
  }
  throw new CliError(`${name} is neither a PNG nor a JPEG file (give a .png, .jpg, or a preprocessed tensor as .npy)`);
}

/** Encodes an RGBA image as PNG bytes. */
export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length);
  return PNG.sync.write(png);
}
