// Ids a store picks for a long call so it can tell its own progress events from anyone else's
// (another window may be importing at the same time).
let counter = 0;

export function newProgressId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}
