// generate.*: the Try view — text from a base model, or from a run's trained adapter (its
// selected checkpoint, else its latest), streamed as `generate.token` events and ended by one
// `generate.done`. Two requests may run side by side (base and adapter).
import { z } from 'zod';
import { method } from '../rpc';

export const generateService = {
  start: method(
    z.strictObject({
      modelId: z.string().min(1).max(300),
      /** Generate with this run's adapter applied (the run's model must be `modelId`'s). */
      adapterRunId: z.number().int().positive().optional(),
      /** Which checkpoint of the run; default: the selected one, else the latest complete one. */
      adapterStep: z.number().int().min(0).optional(),
      prompt: z.string().min(1).max(100_000),
      /** Render the prompt as one user turn with the model's chat template. */
      chat: z.boolean().default(false),
      maxTokens: z.number().int().min(1).max(4096).default(128),
      /** 0: greedy. */
      temperature: z.number().min(0).max(10).default(0),
      topP: z.number().gt(0).max(1).default(1),
      topK: z.number().int().min(0).max(1 << 20).default(0),
      seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
    }),
  ).returns<{ requestId: string }>(),
  /** Stops a request; its `generate.done` says `cancelled`. Unknown or finished ids are ignored. */
  cancel: method(z.strictObject({ requestId: z.string().min(1).max(100) })).returns<void>(),
};
