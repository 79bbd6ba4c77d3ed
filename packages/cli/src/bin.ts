#!/usr/bin/env node
import { parseCommandLine, USAGE } from './args.js';
import { AttributionError } from '@saliency/core';
import { CliError } from './errors.js';
import { exitCodeOf } from './exit-codes.js';
import { inspectCommand } from './inspect.js';
import { exportCommand } from './export.js';
import { run } from './run.js';
import { formatRunSummary, runSummary } from './summary.js';

/**
 * The `saliency` command, and `saliency inspect MODEL`. Exit codes
 * (`exit-codes.ts`, the table in README.md): 0 done; 2 usage or input;
 * 3 model or runtime; 1 an unexpected error, with its stack.
 */
async function main(args: readonly string[]): Promise<number> {
  if (args[0] === 'inspect') {
    process.stdout.write(await inspectCommand(args.slice(1)));
    return 0;
  }
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
  process.stdout.write(formatRunSummary(runSummary(options, result)));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof AttributionError) {
      // A library refusal the command did not put in words of its own: still one line, with the exit code of its kind.
      process.stderr.write(`saliency: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exitCode = exitCodeOf(error.code);
    } else if (error instanceof CliError) {
      process.stderr.write(`saliency: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`saliency: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
