// Turns a domain's candidate documents into train/eval/test splits: drops near-empty documents,
// removes exact duplicates, then assigns whole units (a document, or a group that must not be
// split, such as an email thread or a family of license versions) to splits in an order fixed by
// hashing, until each split reaches its byte target. Pure and deterministic.
import { compareStrings, sha256, utf8Bytes } from './text';

export interface Doc {
  /** Provenance, e.g. "spdx/MIT" or "man/signal.7#3"; unique within a domain. */
  id: string;
  text: string;
}

/** Documents that must land in the same split (near-duplicates, one thread, one man page). */
export interface Unit {
  key: string;
  docs: Doc[];
}

export interface SplitTargets {
  /** The eval split grows unit by unit until it holds at least this many UTF-8 bytes of text. */
  evalBytes: number;
  testBytes: number;
  /** The train split takes the remaining units in order while they fit under this cap. */
  trainMaxBytes: number;
  /** Documents shorter than this (in characters, after normalization) are dropped. */
  minChars: number;
}

export const SPLITS = ['train', 'eval', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface SplitResult {
  splits: Record<SplitName, Doc[]>;
  dropped: { short: number; duplicate: number; overBudget: number };
  candidates: number;
}

function unitBytes(unit: Unit): number {
  let n = 0;
  for (const d of unit.docs) n += utf8Bytes(d.text);
  return n;
}

export function assignSplits(domain: string, units: readonly Unit[], targets: SplitTargets): SplitResult {
  const seenKeys = new Set<string>();
  const seenIds = new Set<string>();
  for (const u of units) {
    if (seenKeys.has(u.key)) throw new Error(`${domain}: unit key ${u.key} appears twice`);
    seenKeys.add(u.key);
    for (const d of u.docs) {
      if (seenIds.has(d.id)) throw new Error(`${domain}: document id ${d.id} appears twice`);
      seenIds.add(d.id);
    }
  }

  // Dedupe in a canonical order (units by key) so the kept copy does not depend on input order.
  // Every text survives at most once among the candidates, so no text can reach two splits.
  const ordered = [...units].sort((a, b) => compareStrings(a.key, b.key));
  const seenText = new Set<string>();
  let short = 0;
  let duplicate = 0;
  let candidates = 0;
  const kept: Unit[] = [];
  for (const unit of ordered) {
    const docs: Doc[] = [];
    for (const doc of unit.docs) {
      candidates++;
      if (doc.text.trim().length < targets.minChars) {
        short++;
        continue;
      }
      const h = sha256(doc.text);
      if (seenText.has(h)) {
        duplicate++;
        continue;
      }
      seenText.add(h);
      docs.push(doc);
    }
    if (docs.length > 0) kept.push({ key: unit.key, docs });
  }

  // A hash of the key is a shuffle that does not move when other units come or go.
  const shuffled = kept
    .map((u) => ({ u, h: sha256(`${domain}\n${u.key}`) }))
    .sort((a, b) => compareStrings(a.h, b.h))
    .map((x) => x.u);

  const splits: Record<SplitName, Doc[]> = { train: [], eval: [], test: [] };
  const bytes: Record<SplitName, number> = { train: 0, eval: 0, test: 0 };
  let overBudget = 0;
  for (const unit of shuffled) {
    const n = unitBytes(unit);
    let to: SplitName | null;
    if (bytes.test < targets.testBytes) to = 'test';
    else if (bytes.eval < targets.evalBytes) to = 'eval';
    else if (bytes.train + n <= targets.trainMaxBytes) to = 'train';
    else to = null;
    if (to === null) {
      overBudget += unit.docs.length;
      continue;
    }
    splits[to].push(...unit.docs);
    bytes[to] += n;
  }
  return { splits, dropped: { short, duplicate, overBudget }, candidates };
}
