// Reads a run configuration file (JSON, or YAML for .yaml/.yml) and validates it. Errors name the
// file with a line and column (syntax) or the field (content), in one sentence.
import path from 'node:path';
import { parseDocument } from 'yaml';
import { UserError } from '../../shared/errors';
import { parseRunConfig, type RunConfig } from '../../shared/run-config';
import { readCappedText } from '../capped-file';
import { locateJsonError } from '../engine/hf/json';

/** Alias expansions a YAML config may make; more is an "alias bomb" (exponential expansion). */
export const MAX_YAML_ALIASES = 100;

/** A run config is a page of settings; a megabyte is far beyond any real one. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `${before.split('\n').length}:${before.length - before.lastIndexOf('\n')}`;
}

/** Parses the text of a config file; `name` is used in messages. */
export function parseRunConfigText(text: string, name: string): RunConfig {
  const yamlFile = /\.ya?ml$/i.test(name);
  let data: unknown;
  if (yamlFile) {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    const first = doc.errors[0];
    if (first) {
      const at = first.pos ? lineCol(text, first.pos[0]) : '1:1';
      throw new UserError(`${name}:${at} is not valid YAML (${first.message.split('\n')[0]?.replace(/ at line \d+, column \d+.*$/, '')})`);
    }
    try {
      data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (err) {
      // The yaml package throws a ReferenceError for an alias bomb ("billion laughs") and for an
      // alias to nothing: the file's fault, said in words.
      const msg = (err as Error).message;
      if (/alias count/i.test(msg)) {
        throw new UserError(`${name} is not usable YAML: it expands its aliases (*name) more than ${MAX_YAML_ALIASES} times, as an "alias bomb" does; write the values out instead`);
      }
      throw new UserError(`${name} is not usable YAML (${msg.split('\n')[0]})`);
    }
  } else {
    try {
      data = JSON.parse(text);
    } catch {
      // Node 20's JSON.parse names no position: the scanner finds it.
      const { pos, reason } = locateJsonError(text);
      throw new UserError(`${name}:${lineCol(text, pos)} is not valid JSON (${reason})`);
    }
  }
  return parseRunConfig(data, path.basename(name));
}

export function loadRunConfigFile(file: string): RunConfig {
  return parseRunConfigText(readCappedText(file, MAX_CONFIG_BYTES, 'a run config'), file);
}
