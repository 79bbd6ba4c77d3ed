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
    // Each heatmap's own box, shot apart: one full-page shot of a page taller
    // than the GPU's largest texture (about 8k pixels with SwiftShader) repeats
    // its top further down instead of showing the rest.
    const shots: string[] = [];
    for (const box of boxes) {
      const clip = {
        x: Math.floor(box.x) + 1,
        y: Math.floor(box.y) + 1,
        width: Math.max(1, Math.floor(box.width) - 2),
        height: Math.max(1, Math.floor(box.height) - 2),
      };
      shots.push((await page.screenshot({ clip, fullPage: true })).toString('base64'));
    }
    await page.goto('about:blank');
    const coloured = await page.evaluate(async (pngs) => {
      const fractions: number[] = [];
      for (const data of pngs) {
        const image = new Image();
        image.src = `data:image/png;base64,${data}`;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let p = 0; p < pixels.length; p += 4) {
          const [red, green, blue] = [pixels[p]!, pixels[p + 1]!, pixels[p + 2]!];
          const greyish = Math.max(red, green, blue) - Math.min(red, green, blue) < 16 && red > 40;
          if (!greyish) count++;
        }
        fractions.push(count / (canvas.width * canvas.height));
      }
      return fractions;
    }, shots);
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
