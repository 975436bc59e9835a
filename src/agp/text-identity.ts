/**
 * Strings as identities (user ids, item ids, hashed keys). A JavaScript string is UTF-16 and may hold a lone
 * surrogate (`"alice\ud800"`); encoded as UTF-8 it becomes U+FFFD, so `"alice\ud800"` and `"alice\ufffd"`
 * would hash alike and share one user's cached profile and its erasure. The HTTP schemas reject such ids;
 * the hashing below never lets two distinct strings meet whatever reaches it.
 */

/** True when `s` has no lone surrogate (is well-formed UTF-16, so UTF-8 encodes it without loss). */
export function isWellFormedText(s: string): boolean {
  // String.prototype.isWellFormed (ES2024, Node 20) is native; the regex is the same test for older runtimes.
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed;
  return typeof native === 'function' ? native.call(s) : !/\p{Cs}/u.test(s);
}

/** A byte that no UTF-8 encoding contains: it marks the UTF-16 form below. */
const NOT_UTF8 = Buffer.from([0xff]);

/**
 * Bytes that identify `s` exactly, for hashing: its UTF-8 when it is well-formed (so every digest made so
 * far keeps its value), else 0xFF followed by its UTF-16 code units, which no UTF-8 string can equal and
 * which keeps lone surrogates apart from U+FFFD and from each other.
 */
export function identityBytes(s: string): Buffer {
  return isWellFormedText(s) ? Buffer.from(s, 'utf8') : Buffer.concat([NOT_UTF8, Buffer.from(s, 'utf16le')]);
}
