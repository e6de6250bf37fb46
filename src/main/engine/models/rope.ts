// Rotary embedding frequencies with Hugging Face's `rope_scaling` variants: none ("default"),
// "linear" (positions divided by the factor) and "llama3" (Llama 3.1's frequency-dependent
// scaling: long wavelengths divided by the factor, short ones kept, a smooth blend in between).
// Variants that also rescale the attention (yarn, longrope, dynamic) are refused by name.
import { InvalidInputError } from '../../../shared/errors';
import { ropeInvFreq } from '../ir/composite';

export type RopeScaling =
  | { rope_type: 'default' }
  | { rope_type: 'linear'; factor: number }
  | {
      rope_type: 'llama3';
      factor: number;
      low_freq_factor: number;
      high_freq_factor: number;
      original_max_position_embeddings: number;
    };

export const SUPPORTED_ROPE_TYPES = ['default', 'linear', 'llama3'] as const;

function positive(obj: Record<string, unknown>, field: string, where: string): number {
  const v = obj[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidInputError(`${where}.${field} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates a config's `rope_scaling` object (`type` is the older spelling of `rope_type`). */
export function parseRopeScaling(value: unknown, where = 'rope_scaling'): RopeScaling | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidInputError(`${where} must be an object or null`);
  const o = value as Record<string, unknown>;
  const type = o.rope_type ?? o.type ?? 'default';
  switch (type) {
    case 'default':
      return { rope_type: 'default' };
    case 'linear':
      return { rope_type: 'linear', factor: positive(o, 'factor', where) };
    case 'llama3': {
      const s = {
        rope_type: 'llama3' as const,
        factor: positive(o, 'factor', where),
        low_freq_factor: positive(o, 'low_freq_factor', where),
        high_freq_factor: positive(o, 'high_freq_factor', where),
        original_max_position_embeddings: positive(o, 'original_max_position_embeddings', where),
      };
      if (s.high_freq_factor <= s.low_freq_factor) throw new InvalidInputError(`${where}: high_freq_factor must be larger than low_freq_factor`);
      return s;
    }
    default:
      throw new InvalidInputError(`${where} of type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_ROPE_TYPES.join(', ')})`);
  }
}

/** Inverse frequencies [headDim / 2] for a head size, base theta and optional scaling. */
export function ropeInverseFrequencies(headDim: number, theta: number, scaling: RopeScaling | null | undefined): number[] {
  const base = ropeInvFreq(headDim, theta);
  if (!scaling || scaling.rope_type === 'default') return base;
  if (scaling.rope_type === 'linear') return base.map((f) => f / scaling.factor);
  const { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: oldLen } = scaling;
  const lowFreqWavelen = oldLen / low;
  const highFreqWavelen = oldLen / high;
  return base.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f; // high frequencies: unchanged
    if (wavelen > lowFreqWavelen) return f / factor; // low frequencies: scaled like "linear"
    const smooth = (oldLen / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}
