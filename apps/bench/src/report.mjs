// Turns the cases' results into Markdown tables (printed, and pasted into
// BENCHMARKS.md). Ratios: below 1 means the first named is faster.

const blank = (count) => Array.from({ length: count }, () => '');
const ms = (v) => (v === undefined ? '–' : v >= 100 ? `${v.toFixed(0)} ms` : v >= 1 ? `${v.toFixed(1)} ms` : `${v.toFixed(3)} ms`);
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`);
const mib = (v) => (v === undefined ? '–' : `${v.toFixed(0)}`);
const bytes = (v) => (v < 1024 ? `${v} B` : v < 2 ** 20 ? `${(v / 1024).toFixed(1)} KiB` : `${(v / 2 ** 20).toFixed(1)} MiB`);
/** One counted call's uploads and downloads (transfers.mjs; PyTorch: null on the CPU, which has no device). */
const transferred = (t) => (t === null ? 'no device' : t === undefined ? '–' : `${bytes(t.uploadBytes)} / ${bytes(t.downloadBytes)}`);

/** Where core's noise was made (run-case.mjs's `deviceNoise`; results from before it say nothing). */
const noiseAt = (deviceNoise) => (deviceNoise === undefined ? '–' : deviceNoise ? 'device' : 'host');
/** The share of the VarGrad call spent outside the backend call for its samples (run-case.mjs's `samplesCall`). */
const outside = (call, samples) => (call === undefined || samples === undefined ? '–' : `${(100 * (1 - samples / call)).toFixed(0)} %`);

/**
 * An engine's name in the tables. A graph-capture engine (onnx-webgpu-capture)
 * whose graphs ONNX Runtime did not all capture ran those uncaptured (the
 * backend warned, run-case.mjs kept the warnings): its name says which, so
 * that no uncaptured time reads as a captured one.
 */
function engineLabel(r) {
  if (!r.graphCapture) return r.engine;
  const warnings = r.warnings ?? [];
  const uncaptured = warnings.map((w) => /does not capture the (.+?) graph/.exec(w)?.[1]).filter(Boolean);
  if (uncaptured.length > 0) return `${r.engine} (not captured: ${[...new Set(uncaptured)].join(', ')})`;
  return warnings.some((w) => /capture/i.test(w)) ? `${r.engine} (capture warnings: see below)` : r.engine;
}

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Speed: per model, one row per engine and N. */
export function speedTables(results) {
  const timed = results.filter((r) => r.kind === 'time' || r.kind === 'transfers');
  const models = [...new Set(timed.map((r) => r.model))];
  return models
    .map((model) => {
      const torch = timed.find((r) => r.model === model && r.engine === 'pytorch' && !r.error);
      const rows = [];
      for (const r of timed.filter((t) => t.model === model)) {
        if (r.error) {
          rows.push([engineLabel(r), '–', `not run: ${r.error.slice(0, 160)}`, ...blank(10)]);
          continue;
        }
        for (const c of r.cases) {
          if (!c.error && r.kind === 'transfers') {
            rows.push([engineLabel(r), c.numSamples, ...blank(7).fill('–'), transferred(c.transfers), noiseAt(r.deviceNoise), '–', '–']);
            continue;
          }
          if (c.error || !c.vargrad) {
            rows.push([engineLabel(r), c.numSamples, `failed: ${(c.error ?? 'incomplete').slice(0, 160)}`, ...blank(10)]);
            continue;
          }
          const t = torch?.cases.find((tc) => tc.numSamples === c.numSamples);
          const v = c.vargrad.medianMs;
          if (r.engine === 'pytorch') {
            rows.push([
              'PyTorch loop',
              c.numSamples,
              ms(c.loop.medianMs),
              ms(c.loop.medianMs / c.numSamples),
              ratio(c.loop.medianMs, c.vargrad.medianMs),
              '1.00×',
              '–',
              '–',
              '–',
              '–',
              '–',
              '–',
              '–',
            ]);
            rows.push([
              'PyTorch batched',
              c.numSamples,
              ms(v),
              ms(v / c.numSamples),
              '1.00×',
              ratio(v, c.loop.medianMs),
              '–',
              ratio(c.gradient.medianMs, c.forward.medianMs),
              ms(c.forward.medianMs),
              transferred(c.transfers),
              '–',
              '–',
              '–',
            ]);
          } else {
            rows.push([
              engineLabel(r),
              c.numSamples,
              ms(v),
              ms(v / c.numSamples),
              ratio(v, t?.vargrad.medianMs),
              ratio(v, t?.loop.medianMs),
              ratio(v, c.vargradBatch1?.medianMs),
              ratio(c.gradient?.medianMs, c.forward?.medianMs),
              ms(c.forward?.medianMs),
              transferred(c.transfers),
              noiseAt(r.deviceNoise),
              ms(c.samplesCall?.medianMs),
              outside(v, c.samplesCall?.medianMs),
            ]);
          }
        }
      }
      const header = [
        'engine',
        'N',
        'VarGrad per call',
        'per sample',
        '÷ PyTorch batched',
        '÷ PyTorch loop',
        '÷ own batchSize 1',
        'gradient ÷ forward (N rows)',
        'forward of N rows',
        'bytes per call (up / down)',
        'noise',
        'samples call',
        'outside it',
      ];
      return `#### ${model}\n\n${table(header, rows)}`;
    })
    .join('\n\n');
}

/** Peak memory: per model and engine, peak RSS for each N at the fixed batchSize. */
export function memoryTable(results) {
  const memory = results.filter((r) => r.kind === 'memory');
  if (memory.length === 0) return '';
  const ns = [...new Set(memory.map((r) => r.numSamples))].sort((a, b) => a - b);
  const keys = [...new Set(memory.map((r) => `${r.model}|${r.engine}`))];
  const rows = keys.map((key) => {
    const [model, engine] = key.split('|');
    const cells = ns.map((n) => memory.find((r) => r.model === model && r.engine === engine && r.numSamples === n));
    const peaks = cells.map((c) => (c?.error ? undefined : c?.peakMiB));
    const first = peaks[0];
    const last = peaks[peaks.length - 1];
    const failed = cells.find((c) => c?.error);
    return [
      model,
      engine,
      mib(cells[0]?.setupPeakMiB),
      ...peaks.map(mib),
      first && last ? `${(((last - first) / first) * 100).toFixed(1)} %` : failed ? failed.error.slice(0, 100) : '–',
    ];
  });
  const batch = memory[0].batchSize;
  return (
    table(['model', 'engine', 'after setup (MiB)', ...ns.map((n) => `N = ${n} (MiB)`), `N = ${ns.at(-1)} vs N = ${ns[0]}`], rows) +
    `\n\nPeak resident set size of a fresh process per cell (VmHWM / ru_maxrss), batchSize ${batch}.`
  );
}

/**
 * The issue-16 targets for ResNet-18 on the GPU engines, from the speed
 * results: outside the samples call under 20 % of the VarGrad call
 * (`outside it`), N = 16 within 5× PyTorch batched, and faster than
 * PyTorch's loop at every N. Empty where PyTorch or ResNet-18 is missing.
 */
export function gpuTargetsTable(results, model = 'resnet18') {
  const torch = results.find((r) => r.model === model && r.engine === 'pytorch' && r.kind === 'time' && !r.error);
  const ours = results.filter((r) => r.model === model && r.engine !== 'pytorch' && r.kind === 'time' && !r.error);
  if (!torch || ours.length === 0) return '';
  const verdict = (ok, text) => (ok === undefined ? '–' : `${ok ? 'met' : 'not met'} (${text})`);
  const rows = [];
  for (const r of ours) {
    for (const c of r.cases.filter((c) => c.vargrad)) {
      const t = torch.cases.find((tc) => tc.numSamples === c.numSamples);
      const call = c.vargrad.medianMs;
      const share = c.samplesCall ? 1 - c.samplesCall.medianMs / call : undefined;
      const batched = t ? call / t.vargrad.medianMs : undefined;
      const loop = t ? call / t.loop.medianMs : undefined;
      rows.push([
        engineLabel(r),
        c.numSamples,
        noiseAt(r.deviceNoise),
        verdict(share === undefined ? undefined : share < 0.2, share === undefined ? '' : `${(100 * share).toFixed(0)} %`),
        c.numSamples === 16 ? verdict(batched === undefined ? undefined : batched <= 5, `${batched?.toFixed(2)}×`) : '–',
        verdict(loop === undefined ? undefined : loop < 1, `${loop?.toFixed(2)}×`),
      ]);
    }
  }
  return (
    `#### Targets (${model})\n\n` +
    table(['engine', 'N', 'noise', 'outside the samples call < 20 %', 'N = 16 ≤ 5× PyTorch batched', 'faster than PyTorch loop'], rows)
  );
}

/** The backends' warnings, per case (run-case.mjs `warnings`; ONNX: onWarning). Empty where none warned. */
export function caseNotes(results) {
  // one line each: ONNX Runtime's reasons may span lines
  const lines = results.flatMap((r) => (r.warnings ?? []).map((w) => `- ${r.model} ${r.engine}: ${w.replace(/\s+/g, ' ')}`));
  return lines.length === 0 ? '' : `#### Backend warnings\n\n${lines.join('\n')}`;
}

/** What a case's map check (maps.mjs `mapCheck`) found. */
function mapVerdict(check) {
  if (check.missing) return check.missing;
  if (check.sizes) return `${check.exact ? 'DIFFERENT' : 'other size'}: ${check.sizes[0]} values against ${check.sizes[1]}`;
  if (check.equal) return check.exact ? 'equal (bit for bit), as required' : 'bit for bit equal';
  const relative = `largest difference ${check.maxAbsDiff.toExponential(2)}, ${(check.maxAbsDiff / check.maxAbs).toExponential(2)} of the largest magnitude`;
  return check.exact ? `DIFFERENT, must be equal: ${relative}` : relative;
}

/** The maps of each case against its reference engine's (maps.mjs). Empty where no case was checked. */
export function mapsTable(results) {
  const rows = results.flatMap((r) =>
    (r.cases ?? [])
      .filter((c) => c.mapCheck)
      .map((c) => [r.model, engineLabel(r), c.numSamples, c.mapCheck.against, mapVerdict(c.mapCheck)]),
  );
  if (rows.length === 0) return '';
  return (
    '#### Maps against another engine\n\n' +
    table(['model', 'engine', 'N', 'against', 'maps (last warm VarGrad call, batchSize N)'], rows) +
    '\n\nAn engine that runs its twin’s kernels (onnx-webgpu-capture: onnx-webgpu’s, replayed) must give equal maps; ' +
    'another engine is compared with the first engine of its model and input layout, without a verdict (other kernels round differently).'
  );
}
