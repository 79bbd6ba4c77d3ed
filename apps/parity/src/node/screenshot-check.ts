import type { BrowserContext } from 'playwright-core';

export interface ScreenshotCheck {
  /** Heatmap images in the page, and how many decoded. */
  readonly heatmaps: number;
  readonly decoded: number;
  /** Heatmaps whose area in the screenshot holds coloured (non-white, non-grey) pixels. */
  readonly visible: number;
  readonly problems: string[];
}

/**
 * Opens the report in Chromium, saves a full-page screenshot, and checks
 * screenshots of the page: inside the box of every heatmap image, at least a
 * tenth of the pixels must be coloured (not white or grey). The PNGs are
 * decoded by Chromium in a blank page, so the check reads what a screenshot shows.
 */
/** The tallest band of the page shot at once: well under SwiftShader's largest texture. */
const BAND_HEIGHT = 4096;

export async function checkReportScreenshot(context: BrowserContext, reportUrl: string, screenshotPath: string): Promise<ScreenshotCheck> {
  const page = await context.newPage();
  try {
    await page.goto(reportUrl, { waitUntil: 'load' });
    const boxes = await page.$$eval('img.heatmap', (images) =>
      images.map((img) => {
        const r = img.getBoundingClientRect();
        return {
          x: r.left + window.scrollX,
          y: r.top + window.scrollY,
          width: r.width,
          height: r.height,
          decoded: (img as HTMLImageElement).naturalWidth > 0,
          alt: (img as HTMLImageElement).alt,
        };
      }),
    );
    await page.screenshot({ path: screenshotPath, fullPage: true });
    // Heatmaps' boxes shot a band of the page at a time, each band at most
    // BAND_HEIGHT tall: one full-page shot of a page taller than the GPU's
    // largest texture (about 8k pixels with SwiftShader) repeats its top
    // further down instead of showing the rest, and a shot per heatmap (240 in
    // the full run) costs half a minute of re-layout.
    const inner = boxes.map((box) => ({
      x: Math.floor(box.x) + 1,
      y: Math.floor(box.y) + 1,
      width: Math.max(1, Math.floor(box.width) - 2),
      height: Math.max(1, Math.floor(box.height) - 2),
    }));
    const bands: { clip: { x: number; y: number; width: number; height: number }; members: number[] }[] = [];
    for (const i of inner.map((_, i) => i).sort((a, b) => inner[a]!.y - inner[b]!.y)) {
      const box = inner[i]!;
      const band = bands.at(-1);
      if (band && box.y + box.height - band.clip.y <= BAND_HEIGHT) {
        band.clip.height = Math.max(band.clip.height, box.y + box.height - band.clip.y);
        band.members.push(i);
      } else bands.push({ clip: { x: 0, y: box.y, width: 0, height: box.height }, members: [i] });
    }
    const shots: { png: string; width: number; boxes: { x: number; y: number; width: number; height: number }[]; index: number[] }[] = [];
    for (const { clip, members } of bands) {
      clip.width = Math.max(...members.map((i) => inner[i]!.x + inner[i]!.width));
      const png = (await page.screenshot({ clip, fullPage: true })).toString('base64');
      const within = members.map((i) => ({ ...inner[i]!, y: inner[i]!.y - clip.y }));
      shots.push({ png, width: clip.width, boxes: within, index: members });
    }
    await page.goto('about:blank');
    const bandFractions = await page.evaluate(async (bandShots) => {
      const out: number[][] = [];
      for (const shot of bandShots) {
        const image = new Image();
        image.src = `data:image/png;base64,${shot.png}`;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        // Device pixels per CSS pixel of the shot (1 unless the context scales).
        const scale = image.naturalWidth / shot.width;
        const fractions: number[] = [];
        for (const box of shot.boxes) {
          const [x, y, width, height] = [box.x, box.y, box.width, box.height].map((v) => Math.round(v * scale)) as [
            number,
            number,
            number,
            number,
          ];
          const pixels = context.getImageData(x, y, width, height).data;
          let count = 0;
          for (let p = 0; p < pixels.length; p += 4) {
            const [red, green, blue] = [pixels[p]!, pixels[p + 1]!, pixels[p + 2]!];
            const greyish = Math.max(red, green, blue) - Math.min(red, green, blue) < 16 && red > 40;
            if (!greyish) count++;
          }
          fractions.push(count / (width * height));
        }
        out.push(fractions);
      }
      return out;
    }, shots);
    const coloured: number[] = [];
    shots.forEach((shot, s) => shot.index.forEach((i, k) => (coloured[i] = bandFractions[s]![k]!)));
    const problems: string[] = [];
    if (boxes.length === 0) problems.push('the report shows no heatmap');
    boxes.forEach((box, i) => {
      if (!box.decoded) problems.push(`heatmap "${box.alt}" did not decode`);
      else if (coloured[i]! < 0.1)
        problems.push(`heatmap "${box.alt}" is blank in the screenshot (${(coloured[i]! * 100).toFixed(0)}% coloured pixels)`);
    });
    return {
      heatmaps: boxes.length,
      decoded: boxes.filter((b) => b.decoded).length,
      visible: coloured.filter((c) => c >= 0.1).length,
      problems,
    };
  } finally {
    await page.close();
  }
}
