import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applicableCases, runSuiteCase, SUITE_FOLDERS, SUITE_ROOT, type SuiteResult } from './helpers/onnx-suite.js';

const README = new URL('../README.md', import.meta.url);
const BEGIN = '<!-- onnx-suite-table: begin (written by npm run onnx-suite-table) -->';
const END = '<!-- onnx-suite-table: end -->';

function table(results: readonly SuiteResult[], applicable: Record<string, number>): string {
  const passed = (r: SuiteResult) => r.passed;
  const lines = [
    '| folder | applicable | passed | failed |',
    '| --- | --- | --- | --- |',
    ...SUITE_FOLDERS.map((folder) => {
      const mine = results.filter((r) => r.name.startsWith(`${folder}/`));
      return `| ${folder} | ${applicable[folder]} | ${mine.filter(passed).length} | ${mine.filter((r) => !passed(r)).length} |`;
    }),
    '',
    '| case | forward (shape inference, float64 evaluator) | gradient (central differences) |',
    '| --- | --- | --- |',
    ...results.map((r) => `| ${r.name} | ${r.forward} | ${r.gradient} |`),
  ];
  return lines.join('\n');
}

describe("ONNX's backend test suite", () => {
  it('every case whose ops all have a rule gives the outcome the README table records', async () => {
    if (!existsSync(SUITE_ROOT)) {
      throw new Error(
        `ONNX's backend test data is not installed (${SUITE_ROOT}): run scripts/setup-system.sh, which installs Debian's libonnx-testdata`,
      );
    }
    const results: SuiteResult[] = [];
    const applicable: Record<string, number> = {};
    for (const folder of SUITE_FOLDERS) {
      const cases = applicableCases(folder);
      applicable[folder] = cases.length;
      for (const c of cases) results.push(await runSuiteCase(c.name, c.dir, c.model));
    }
    const generated = `${BEGIN}\n${table(results, applicable)}\n${END}`;
    const readme = readFileSync(README, 'utf8');
    const start = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    if (process.env['WRITE_ONNX_SUITE_TABLE'] === '1') {
      writeFileSync(
        README,
        start < 0 ? `${readme}\n${generated}\n` : `${readme.slice(0, start)}${generated}${readme.slice(end + END.length)}`,
      );
      return;
    }
    expect(start, 'the README has no ONNX suite table: run npm run onnx-suite-table -w packages/backend-onnx').toBeGreaterThanOrEqual(0);
    expect(
      readme.slice(start, end + END.length),
      'the outcomes differ from the README table (npm run onnx-suite-table -w packages/backend-onnx rewrites it)',
    ).toBe(generated);
  }, 600_000);
});
