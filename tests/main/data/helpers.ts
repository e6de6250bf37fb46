// Shared by the data tests: where the tokenizer fixtures live, and small file writers.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Example, JsonValue } from '../../../src/main/data/formats';

export const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/data');
export const CHATML = path.join(FIXTURES, 'tiny-chatml');
export const LLAMA3 = path.join(FIXTURES, 'tiny-llama3');

/** Writes one JSON value per line. */
export function writeJsonl(file: string, rows: unknown[]): string {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

/** A deterministic sentence for example i (varied words, some non-ASCII). */
export function sentence(i: number, words = 12): string {
  const vocab = ['the', 'model', 'learns', 'from', 'data', 'and', 'café', 'mixture', 'loss', 'über', 'sequence', 'token', '数据', 'batch'];
  const out: string[] = [];
  for (let k = 0; k < words; k++) out.push(vocab[(i * 31 + k * 7 + ((i * k) % 5)) % vocab.length]!);
  return `${out.join(' ')} #${i}.`;
}

/** A tool-use chat: a call without content, a call after content, the results, the answer. */
export function toolChat(): Example & { kind: 'chat' } {
  const tools: JsonValue[] = [
    { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
    { type: 'function', function: { name: 'convert', description: 'Celsius to Fahrenheit', parameters: { type: 'object', properties: { celsius: { type: 'number' } } } } },
  ];
  return {
    kind: 'chat',
    tools,
    messages: [
      { role: 'user', content: 'How warm is it in Paris, in °F?' },
      { role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', content: '{"temp_c": 18}', name: 'get_weather' },
      { role: 'assistant', content: 'Let me convert.', tool_calls: [{ type: 'function', function: { name: 'convert', arguments: { celsius: 18 } } }] },
      { role: 'tool', content: '{"temp_f": 64}', name: 'convert' },
      { role: 'assistant', content: 'It is 18 °C (64 °F) in Paris.' },
    ],
  };
}
