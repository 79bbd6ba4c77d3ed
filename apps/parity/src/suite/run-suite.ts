import { explain, type GradientBackend, type HostTensor, type RuntimeId } from '@saliency/core';
import { viewFor, type LoadedFixture } from './fixture.js';
import { knownGap } from './gaps.js';
import { agreement } from './metrics.js';
import { HEATMAP_METHODS, isApplicable, METHODS, optionsFor, referenceMaps, type ParityMethod } from './methods.js';
import type { CellResult, FixtureInfo, ParityRow, SuiteResult, ColumnInfo } from './results.js';
import { kinkFlipVerdict } from './kink-flips.js';
import { runtimeVerdict, type PlainSessionCheck } from './runtime-verdict.js';
import { isUnavailable, type ParityColumn, type ColumnEntry } from './columns.js';
import { TOLERANCE } from './tolerance.js';

export const ROWS: readonly ParityRow[] = ['logits', ...METHODS];

export interface SuiteOptions {
  /** Called after every cell, e.g. to log progress. */
  readonly onCell?: (cell: CellResult) => void;
  /** The rows to run, in `ROWS` order; default every row. */
  readonly rows?: readonly ParityRow[];
}

/** The rows named, or every row; an unknown name is an error that lists the rows. */
export function chooseRows(names: readonly string[] | undefined): readonly ParityRow[] {
  if (names === undefined) return ROWS;
  const unknown = names.filter((n) => !(ROWS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown row(s) ${unknown.join(', ')}; the rows are ${ROWS.join(', ')}`);
  return ROWS.filter((row) => names.includes(row));
}

export function columnInfo(column: ColumnEntry): ColumnInfo {
  const { id, runtime, library, device, environment, deviceClass } = column;
  return { id, runtime, library, device, environment, deviceClass, tolerance: TOLERANCE[deviceClass] };
}

export function fixtureInfo(fixture: LoadedFixture): FixtureInfo {
  const references = referenceMaps(fixture);
  return {
    name: fixture.name,
    inputShape: fixture.reference.inputShape,
    layouts: fixture.layouts,
    numSamples: fixture.numSamples,
    steps: fixture.steps,
    referenceSources: {
      logits: 'PyTorch',
      ...Object.fromEntries(METHODS.map((m) => [m, isApplicable(references[m]) ? references[m].source : 'not applicable'])),
    },
    referenceMaps: Object.fromEntries(
      HEATMAP_METHODS.flatMap((m) => {
        const reference = references[m];
        return isApplicable(reference) ? [[m, Array.from(reference.values)]] : [];
      }),
    ),
    input: Array.from(fixture.reference.input),
  };
}

const messageOf = (error: unknown) =>
  error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);

/** A gap when the error is a known runtime limit, else an error cell. */
function stoppedCell(base: Omit<CellResult, 'status'>, error: unknown, runtime: RuntimeId): CellResult {
  const message = messageOf(error);
  const gap = knownGap(message, runtime);
  return gap ? { ...base, status: 'gap', gapName: gap.name, reason: gap.reason } : { ...base, status: 'error', reason: message };
}

/**
 * The column's plain-session check of the fixture (see `runtime-verdict.ts`),
 * run at most once per fixture and column, and only when a cell needs it.
 */
function plainSessionCheck(column: ParityColumn, fixture: LoadedFixture): () => Promise<PlainSessionCheck | undefined> {
  let check: Promise<PlainSessionCheck | undefined> | undefined;
  const run = async (): Promise<PlainSessionCheck | undefined> => {
    if (!column.runtimeLogits) return undefined;
    try {
      const score = agreement(await column.runtimeLogits(fixture), fixture.reference.logits);
      return { ran: true, relativeMaxError: score.relativeMaxError, cosine: score.cosine };
    } catch (error) {
      return { ran: false, error: messageOf(error) };
    }
  };
  return () => (check ??= run());
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

async function runRow(
  row: ParityRow,
  backend: GradientBackend,
  fixture: LoadedFixture,
  model: 'onnx' | 'tfjs',
): Promise<{ map: Float32Array; ms: number }> {
  const view = viewFor(fixture, model);
  if (row === 'logits') {
    const { value, ms } = await timed(() => backend.logits(view.input));
    return { map: value.data, ms }; // [B, K]: the same in every layout
  }
  const { value, ms } = await timed<HostTensor>(() => explain(backend, row, view.input, optionsFor(row, fixture, view)));
  // A layer method's map is [B, ...positions, 1] for a channels-last model and [B, 1, ...positions] otherwise.
  return { map: view.toOnnxLayout(value), ms };
}

/**
 * Runs every row on every column for every fixture, one cell at a time, and
 * scores each map against the fixture's reference (see `metrics.ts`). A cell
 * that cannot run becomes a gap or an error cell; nothing is skipped.
 */
export async function runSuite(
  fixtures: readonly LoadedFixture[],
  columns: readonly ColumnEntry[],
  options: SuiteOptions = {},
): Promise<SuiteResult> {
  const start = performance.now();
  const rows = options.rows ?? ROWS;
  const cells: CellResult[] = [];
  const record = (cell: CellResult) => {
    cells.push(cell);
    options.onCell?.(cell);
  };
  for (const column of columns) {
    const tolerance = TOLERANCE[column.deviceClass];
    for (const fixture of fixtures) {
      const references = referenceMaps(fixture);
      const base = (row: ParityRow) => ({ fixture: fixture.name, row, column: column.id, tolerance });
      // A method without meaning on this model is n/a on every column, never run.
      const expected = new Map<ParityRow, ArrayLike<number>>();
      for (const row of rows) {
        const reference = row === 'logits' ? { values: fixture.reference.logits } : references[row];
        if ('values' in reference) expected.set(row, reference.values);
        else record({ ...base(row), status: 'n/a', reason: reference.notApplicable });
      }
      const runnable = [...expected.keys()];
      if (isUnavailable(column)) {
        for (const row of runnable) record({ ...base(row), status: 'gap', gapName: 'runtime unavailable', reason: column.unavailable });
        continue;
      }
      const plainCheck = plainSessionCheck(column, fixture);
      let backend: GradientBackend;
      try {
        backend = await column.open(fixture);
        if (backend.name !== column.runtime) {
          await backend.dispose?.();
          throw new Error(`the backend calls itself ${backend.name}, not by the column's runtime id ${column.runtime}`);
        }
      } catch (error) {
        for (const row of runnable) record(stoppedCell(base(row), error, column.runtime));
        continue;
      }
      try {
        for (const row of runnable) {
          try {
            const { map, ms } = await runRow(row, backend, fixture, column.model);
            const score = agreement(map, expected.get(row)!);
            const heatmap = HEATMAP_METHODS.includes(row as ParityMethod) ? { map: Array.from(map) } : {};
            const cell: CellResult = {
              ...base(row),
              status: score.relativeMaxError <= tolerance ? 'pass' : 'fail',
              ...score,
              ms,
              ...heatmap,
            };
            record(cell.status === 'fail' ? kinkFlipVerdict(runtimeVerdict(cell, await plainCheck(), column)) : cell);
          } catch (error) {
            record(stoppedCell(base(row), error, column.runtime));
          }
        }
      } finally {
        await backend.dispose?.();
      }
    }
  }
  return { columns: columns.map(columnInfo), fixtures: fixtures.map(fixtureInfo), cells, ms: performance.now() - start };
}
