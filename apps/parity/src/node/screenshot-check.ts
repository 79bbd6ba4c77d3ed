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
 * Opens the report in Chromium, takes a full-page screenshot, and checks the
 * screenshot itself: inside the box of every heatmap image, at least a tenth
 * of the pixels must be coloured (not white or grey). The PNG is decoded by
 * Chromium in a blank page, so the check reads what the screenshot shows.
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
    const png = await page.screenshot({ path: screenshotPath, fullPage: true });
    await page.goto('about:blank');
    const coloured = await page.evaluate(
      async ([data, regions]) => {
        const image = new Image();
        image.src = `data:image/png;base64,${data}`;
        await image.decode();
        const canvas = document.createElement('canvas');
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        return regions.map((r) => {
          const w = Math.max(1, Math.floor(r.width) - 2);
          const h = Math.max(1, Math.floor(r.height) - 2);
          const pixels = context.getImageData(Math.floor(r.x) + 1, Math.floor(r.y) + 1, w, h).data;
          let count = 0;
          for (let p = 0; p < pixels.length; p += 4) {
            const [red, green, blue] = [pixels[p]!, pixels[p + 1]!, pixels[p + 2]!];
            const greyish = Math.max(red, green, blue) - Math.min(red, green, blue) < 16 && red > 40;
            if (!greyish) count++;
          }
          return count / (w * h);
        });
      },
      [png.toString('base64'), boxes] as const,
    );
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
