import { readFile } from 'node:fs/promises';
import { CliError } from './errors.js';

/** Reads a file the user named, turning a failure into a message that names the flag. */
export async function readUserFile(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (error as Error).message})`;
    throw new CliError(`${flag}: ${path} ${why}`);
  }
}
