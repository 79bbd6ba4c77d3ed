import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { modelArtifacts } from '../../src/index.js';
import { tf } from './tfjs-setup.js';

/**
 * The TF.js GraphModels that the npm package @vladmandic/human (MIT, a
 * devDependency pinned to one version) ships in its models/ folder, as its
 * converter wrote them; read from the installed package, never copied here.
 */
export const HUMAN_MODELS = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/human')), '..', 'models');

export async function loadHumanModel(name: string): Promise<GraphModel> {
  const json = JSON.parse(await readFile(join(HUMAN_MODELS, `${name}.json`), 'utf8'));
  return loadGraphModel(tf.io.fromMemory(await modelArtifacts(json, (path) => readFile(join(HUMAN_MODELS, path)))));
}

/** The ops of a shipped model's graph, for saying what a test covers. */
export async function humanModelOps(name: string): Promise<Set<string>> {
  const json = JSON.parse(await readFile(join(HUMAN_MODELS, `${name}.json`), 'utf8'));
  return new Set((json.modelTopology.node as { op: string }[]).map((node) => node.op));
}
