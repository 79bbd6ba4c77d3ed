import { channelSum, mapPicture, sharedLevel } from '../suite/heatmap.js';
import { cellText, rowsOf } from '../suite/matrix.js';
import { HEATMAP_METHODS, mapShape } from '../suite/methods.js';
import type { CellResult, FixtureInfo, SuiteResult, ColumnInfo } from '../suite/results.js';
import { DEVICE_CLASS_LABEL, TOLERANCE } from '../suite/tolerance.js';
import { encodePng } from './png.js';
import { isOneDimensional, seriesCellPng } from './series-cell.js';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Pixels a heatmap is drawn at, at least: small maps are scaled up, pixelated. */
const HEATMAP_PX = 96;

function heatmapTag(map: readonly number[], fixture: FixtureInfo, label: string, method: string, reference: readonly number[]): string {
  const shape = mapShape(method, fixture.inputShape);
  if (isOneDimensional(fixture)) {
    return `<img class="series" alt="${escapeHtml(label)}" src="data:image/png;base64,${seriesCellPng(map, shape, fixture, method, reference).toString('base64')}">`;
  }
  const picture = channelSum(map, shape);
  const { width, height } = picture;
  const png = encodePng(mapPicture(picture, method, sharedLevel(channelSum(reference, shape).data))).toString('base64');
  const zoom = Math.max(1, Math.floor(HEATMAP_PX / Math.max(width, height)));
  return `<img class="heatmap" alt="${escapeHtml(label)}" src="data:image/png;base64,${png}" width="${width * zoom}" height="${Math.max(height * zoom, 8)}">`;
}

function cellTag(cell: CellResult | undefined): string {
  if (!cell) return '<td class="missing">—</td>';
  if (cell.status === 'n/a') return `<td class="na" title="${escapeHtml(cell.reason ?? '')}">n/a</td>`;
  const title =
    cell.status === 'gap' || cell.status === 'error'
      ? (cell.reason ?? '')
      : `max |a−r| / max |r| = ${cell.relativeMaxError!.toExponential(2)}; cosine ${cell.cosine!.toFixed(7)}; top-5% Jaccard ${cell.top5Agreement!.toFixed(3)}; ${cell.ms!.toFixed(0)} ms${cell.reason ? `; ${cell.reason}` : ''}`;
  const detail =
    cell.status === 'pass' || cell.status === 'fail'
      ? `<small>cos ${cell.cosine!.toFixed(6)} · top5 ${cell.top5Agreement!.toFixed(2)}</small>`
      : `<small>${escapeHtml(cell.gapName ?? 'see below')}</small>`;
  return `<td class="${cell.status}" title="${escapeHtml(title)}">${escapeHtml(cellText(cell))}<br>${detail}</td>`;
}

function matrixTable(result: SuiteResult, fixture: FixtureInfo): string {
  const cellOf = (row: string, column: ColumnInfo) =>
    result.cells.find((c) => c.fixture === fixture.name && c.row === row && c.column === column.id);
  const head = result.columns
    .map((t) => `<th>${escapeHtml(t.id)}<br><small>${t.environment} · tol ${t.tolerance.toExponential(0)}</small></th>`)
    .join('');
  const rows = rowsOf(result)
    .map(
      (row) =>
        `<tr><th>${row}<br><small>${escapeHtml(fixture.referenceSources[row] ?? '')}</small></th>${result.columns.map((t) => cellTag(cellOf(row, t))).join('')}</tr>`,
    )
    .join('\n');
  return `<table class="matrix"><tr><th></th>${head}</tr>\n${rows}</table>`;
}

function heatmapRow(result: SuiteResult, fixture: FixtureInfo, method: string): string {
  const reference = fixture.referenceMaps[method];
  if (reference === undefined) return ''; // n/a on this fixture (Grad-CAM of an MLP)
  const figures = [
    `<figure>${heatmapTag(reference, fixture, `${fixture.name} ${method} reference`, method, reference)}<figcaption>reference (PyTorch)</figcaption></figure>`,
  ];
  for (const column of result.columns) {
    const cell = result.cells.find((c) => c.fixture === fixture.name && c.row === method && c.column === column.id);
    figures.push(
      cell?.map
        ? `<figure>${heatmapTag(cell.map, fixture, `${fixture.name} ${method} ${column.id}`, method, reference)}<figcaption>${escapeHtml(column.id)}</figcaption></figure>`
        : `<figure class="nomap"><div class="gap-box" title="${escapeHtml(cell?.reason ?? '')}">${escapeHtml(cell?.gapName ?? cell?.status ?? 'not run')}</div><figcaption>${escapeHtml(column.id)}</figcaption></figure>`,
    );
  }
  return `<div class="heatmaps"><h4>${method}</h4>${figures.join('')}</div>`;
}

function stoppedList(result: SuiteResult): string {
  const byReason = new Map<string, CellResult[]>();
  for (const cell of result.cells.filter((c) => c.status === 'gap' || c.status === 'error' || c.status === 'n/a')) {
    const column = cell.status === 'n/a' ? 'every column' : cell.column;
    const key = `${cell.status}\u0000${column}\u0000${cell.gapName ?? ''}\u0000${cell.reason ?? ''}`;
    byReason.set(key, [...(byReason.get(key) ?? []), cell]);
  }
  if (byReason.size === 0) return '<p>Every cell ran.</p>';
  const items = [...byReason.entries()].map(([key, cells]) => {
    const [status, column, name, reason] = key.split('\u0000') as [string, string, string, string];
    const where = [...new Set(cells.map((c) => `${c.fixture}/${c.row}`))].join(', ');
    const what = status === 'gap' ? `gap: ${escapeHtml(name)}` : status === 'n/a' ? 'not applicable' : 'ERROR';
    return `<li class="${status === 'n/a' ? 'na' : status}"><b>${what}</b> on <code>${escapeHtml(column)}</code>: ${escapeHtml(reason)}<br><small>${escapeHtml(where)}</small></li>`;
  });
  return `<ul class="stopped">${items.join('\n')}</ul>`;
}

/**
 * The report as one static HTML file (no script, images inlined as PNG): per
 * fixture the matrix and, for the heatmap methods, the reference's and every
 * column's map of example 0 side by side on the reference's colour scale.
 */
export function reportHtml(result: SuiteResult, meta: { generated: string; versions: Record<string, string> }): string {
  const count = (s: CellResult['status']) => result.cells.filter((c) => c.status === s).length;
  const notApplicable = count('n/a') ? `, <b>${count('n/a')}</b> not applicable (the method has no meaning on the model)` : '';
  const tolerances = Object.entries(TOLERANCE)
    .map(([k, v]) => `<li>${escapeHtml(DEVICE_CLASS_LABEL[k as keyof typeof TOLERANCE])}: ${v.toExponential(0)}</li>`)
    .join('');
  const fixtures = result.fixtures
    .map(
      (
        f,
      ) => `<section class="fixture" id="${escapeHtml(f.name)}"><h2>${escapeHtml(f.name)} <small>input [${f.inputShape.join(', ')}] ${f.layouts.onnx} (TF.js ${f.layouts.tfjs}), ${f.numSamples} noise samples, ${f.steps} IG steps</small></h2>
${matrixTable(result, f)}
${HEATMAP_METHODS.map((m) => heatmapRow(result, f, m)).join('\n')}
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>saliency parity report</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
table.matrix { border-collapse: collapse; margin: 8px 0; }
table.matrix th, table.matrix td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
table.matrix small { color: #666; font-weight: normal; }
td.pass { background: #e3f6e3; } td.fail { background: #f9c9c9; } td.gap { background: #e6e6e6; } td.error { background: #fbd7a4; } td.na { color: #888; }
.heatmaps { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 8px; margin: 6px 0; }
.heatmaps h4 { width: 100%; margin: 8px 0 0; }
figure { margin: 0; text-align: center; } figcaption { font-size: 11px; color: #444; }
img.heatmap { image-rendering: pixelated; border: 1px solid #999; display: block; }
img.series { border: 1px solid #999; display: block; }
.gap-box { width: 96px; height: 96px; display: flex; align-items: center; justify-content: center; background: repeating-linear-gradient(45deg, #eee, #eee 6px, #ddd 6px, #ddd 12px); border: 1px dashed #999; font-size: 11px; }
ul.stopped li.error { color: #a33; }
</style></head><body>
<h1>saliency parity report</h1>
<p>${result.cells.length} cells: <b>${count('pass')}</b> within tolerance, <b>${count('fail')}</b> past it, <b>${count('gap')}</b> gaps, <b>${count('error')}</b> errors${notApplicable}. Generated ${escapeHtml(meta.generated)}; ${escapeHtml(
    Object.entries(meta.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  )}.</p>
<p>Each cell: max |map − reference| / max |reference| over the whole batch (pass when within the column's tolerance), the cosine similarity, and the Jaccard index of the top 5% elements by magnitude. Hover a cell for details. Tolerances by device class:</p><ul>${tolerances}</ul>
<p>Heatmaps: example 0 on the reference's scale. Signed methods (the gradient, Guided Backprop, DeconvNet) on a diverging blue–white–red scale (white = 0, clipped at the 99th percentile of the reference's |value|); methods whose maps are never negative (VarGrad, Grad-CAM) on viridis. Images: the channels summed with their signs. Series and feature vectors: one lane per channel (one for a vector or a Grad-CAM map), the input drawn over the map's colours, top to bottom in channel order.</p>
<h2>Cells that did not run</h2>
${stoppedList(result)}
${fixtures}
</body></html>
`;
}
