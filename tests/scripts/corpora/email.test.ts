// The email reader and cleaner: MIME structure, transfer encodings, charsets and encoded
// headers; bodies stripped of addresses, quoted headers, PGP armour and list footers; threads
// keyed by subject. Broken messages yield a reason, never an exception.
import { describe, expect, it } from 'vitest';
import { cleanBody, removeAddresses, threadKey } from '../../../scripts/corpora/domains/email';
import { decodeCharset, decodeHeader, parsePart, plainTextOf } from '../../../scripts/corpora/mime';

describe('plainTextOf', () => {
  it('takes the first text/plain part of a multipart message, decoding quoted-printable', () => {
    const raw = [
      'From: a@b.example',
      'Subject: hi',
      'Content-Type: multipart/alternative; boundary="XX"',
      '',
      '--XX',
      'Content-Type: text/html',
      '',
      '<p>html</p>',
      '--XX',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=E9 and a soft=',
      ' break',
      '--XX--',
    ].join('\r\n');
    expect(plainTextOf(parsePart(raw))).toEqual({ ok: true, text: 'café and a soft break' });
  });

  it('decodes base64 UTF-8 bodies and treats mislabelled UTF-8 as Windows-1252', () => {
    const b64 = Buffer.from('naïve – text', 'utf8').toString('base64');
    const raw = `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${b64}\n`;
    expect(plainTextOf(parsePart(raw))).toEqual({ ok: true, text: 'naïve – text' });
    expect(decodeCharset('\x93quoted\x94 caf\xe9', 'utf-8')).toBe('\u201cquoted\u201d café');
  });

  it('says why there is no usable body', () => {
    expect(plainTextOf(parsePart('Content-Type: text/html\n\n<p>x</p>'))).toEqual({ ok: false, reason: 'body is text/html' });
    expect(plainTextOf(parsePart('Content-Type: text/plain; charset=koi8-r\n\nx'))).toEqual({ ok: false, reason: 'charset not handled' });
    expect(plainTextOf(parsePart('Content-Type: multipart/mixed\n\nx'))).toEqual({ ok: false, reason: 'multipart without boundary' });
    expect(plainTextOf(parsePart('Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: image/png\n\nxx\n--B--'))).toEqual({
      ok: false,
      reason: 'no text/plain part',
    });
    expect(plainTextOf(parsePart(''))).toEqual({ ok: true, text: '' });
  });

  it('decodes RFC 2047 encoded words in headers', () => {
    expect(decodeHeader('=?iso-8859-1?Q?caf=E9_cr=E8me?= and =?utf-8?B?' + Buffer.from('ünï').toString('base64') + '?=')).toBe('café crème and ünï');
    expect(decodeHeader('=?koi8-r?B?abc?=')).toBe('=?koi8-r?B?abc?=');
  });
});

describe('cleanBody', () => {
  it('removes addresses, quoted header lines, PGP armour and a mailing-list footer', () => {
    const body = [
      '-----BEGIN PGP SIGNED MESSAGE-----',
      'Hash: SHA1',
      '',
      'On Monday jane.doe+list@example.org wrote:',
      '> From: Jane <jane@example.org>',
      '> Date: Mon, 1 Jul 2002',
      '> the original text',
      'Reply text, write to bob at example dot com.',
      '-----BEGIN PGP SIGNATURE-----',
      'iD8DBQE9',
      '-----END PGP SIGNATURE-----',
      '',
      '_______________________________________________',
      'Foo mailing list',
      'https://lists.example.org/mailman/listinfo/foo',
    ].join('\n');
    expect(cleanBody(body)).toBe('On Monday <email> wrote:\n> the original text\nReply text, write to <email>.');
  });

  it('keeps a rule of underscores that is not a list footer', () => {
    expect(cleanBody('text\n____________\nmore text')).toBe('text\n____________\nmore text');
  });

  it('replaces local addresses and message ids too', () => {
    expect(removeAddresses('zzzz@localhost and <1029945287.4797.TMDA@deepeddy.vircio.com>')).toBe('<email> and <<email>>');
  });
});

describe('threadKey', () => {
  it('strips reply and forward prefixes and list tags', () => {
    expect(threadKey('Re: [ILUG] Fwd: RE:  New   Sequences Window')).toBe('new sequences window');
    expect(threadKey('Re[2]: hello')).toBe('hello');
    expect(threadKey('')).toBe('');
  });
});
