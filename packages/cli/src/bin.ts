#!/usr/bin/env node
import { parseCommandLine, USAGE } from './args.js';
import { AttributionError } from '@saliency/core';
import { cliErrorOf, CliError } from './errors.js';
import { exportCommand } from './export.js';
import { run } from './run.js';

/**
 * The `saliency` command. Exit codes: 0 done; 2 refused input (bad flag,
 * missing file, unknown method, target out of range, input the model does not
 * take, a model file that is invalid, unsupported or over a budget); 1 a
 * failure while working. Every refusal is one line.
 */
async function main(args: readonly string[]): Promise<number> {
  if (args[0] === 'export') {
    await exportCommand(args.slice(1), { stdout: process.stdout, stderr: process.stderr });
    return 0;
  }
  const options = parseCommandLine(args);
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const result = await run(options, { stderr: process.stderr });
  const written = [options.out, options.overlay, options.raw].filter((p) => p !== undefined).join(', ');
  process.stderr.write(`${options.method} on ${result.backend}: map ${JSON.stringify(result.map.shape)} written to ${written}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const refusal = error instanceof AttributionError ? cliErrorOf(error) : error;
    if (refusal instanceof CliError) {
      process.stderr.write(`saliency: ${refusal.message.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exitCode = refusal.exitCode;
    } else {
      process.stderr.write(`saliency: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
