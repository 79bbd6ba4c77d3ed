import type { RgbaImage } from '@saliency/core/visualize';

/**
 * Decodes an image (URL or uploaded file) at its own size; fitting it to the
 * model's size is `@saliency/core/preprocess`'s, as in the CLI.
 */
export async function loadImage(source: string | Blob): Promise<RgbaImage> {
  const blob = typeof source === 'string' ? await (await fetch(source)).blob() : source;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`the image${source instanceof File ? ` "${source.name}"` : ''} could not be decoded (PNG, JPEG, WebP, GIF or BMP)`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser gives no 2D canvas');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return context.getImageData(0, 0, canvas.width, canvas.height);
}
