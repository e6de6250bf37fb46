// Two-key shortcuts to move between views ("g" then a letter, as in many web tools). Pure state
// machine, so it can be tested without a DOM; App.vue feeds it keydown events.

export const GO_KEYS: Record<string, string> = {
  m: '/models',
  d: '/datasets',
  e: '/experiment',
  r: '/runs',
  c: '/compare',
  w: '/whatif',
  t: '/try',
  s: '/system',
};

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  /** The element the key was typed in: typing in a field is never a shortcut. */
  targetTag?: string;
  targetEditable?: boolean;
}

/** Returns a function that takes each key and returns the path to go to, or null. */
export function goShortcuts(timeoutMs = 1200, now: () => number = Date.now): (k: KeyLike) => string | null {
  let armedAt = -Infinity;
  return (k) => {
    if (k.ctrlKey || k.metaKey || k.altKey) {
      armedAt = -Infinity;
      return null;
    }
    const tag = (k.targetTag ?? '').toUpperCase();
    if (k.targetEditable || tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return null;
    const key = k.key.toLowerCase();
    if (now() - armedAt <= timeoutMs) {
      armedAt = -Infinity;
      return GO_KEYS[key] ?? null;
    }
    if (key === 'g') armedAt = now();
    return null;
  };
}
