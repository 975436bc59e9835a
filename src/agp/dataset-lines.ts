/**
 * Bounded-memory framing for line-oriented datasets. Text arrives in chunks (the CLI and the job runner
 * open the files and pass a decoded stream); lines come out one at a time. A line longer than the cap is
 * cut at cap + 1 characters rather than accumulated, so a hostile file with one endless line costs
 * at most the cap, and the reader still sees that the line is too long.
 */

/**
 * Longest dataset line accepted, in UTF-16 code units. A canonical user with a 50-item history and 20
 * candidates with descriptions is around 20 k characters; 4 Mi leaves room for very long texts.
 */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

/**
 * Deepest JSON nesting accepted in one line. A canonical row nests 3 levels (row → history → item);
 * anything much deeper is not a dataset row and is refused before JSON.parse builds it.
 */
export const MAX_JSON_DEPTH = 16;

function dropCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Splits chunks of text into lines (`\n` or `\r\n`), in order, with no trailing empty line for a final
 * line break. A line over `maxLineChars` is yielded as soon as it passes the cap, cut to
 * `maxLineChars + 1` characters, and the rest of it is skipped, never held: `line.length > maxLineChars`
 * marks it as too long, and a reader can stop there without reading the rest of the file.
 */
export async function* splitLines(chunks: AsyncIterable<string> | Iterable<string>, maxLineChars = MAX_LINE_CHARS): AsyncGenerator<string> {
  let pending = '';
  let skipping = false;
  for await (const chunk of chunks) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', from);
      const to = nl === -1 ? chunk.length : nl;
      if (!skipping) {
        pending += chunk.slice(from, Math.min(to, from + maxLineChars + 1 - pending.length));
        if (pending.length > maxLineChars) {
          yield pending;
          pending = '';
          skipping = true;
        }
      }
      if (nl === -1) break;
      if (skipping) skipping = false;
      else yield dropCr(pending);
      pending = '';
      from = nl + 1;
    }
  }
  if (pending !== '') yield dropCr(pending);
}

/**
 * True when the JSON text nests arrays/objects deeper than `maxDepth`. Linear, with no recursion; the
 * insides of strings are skipped with indexOf, which is where nearly all of a dataset line's characters
 * are. Malformed text gives some answer and is then refused by JSON.parse.
 */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Find the closing quote: one preceded by an even number of backslashes.
      let j = text.indexOf('"', i + 1);
      for (;;) {
        if (j === -1) return false;
        let slashes = 0;
        while (text.charCodeAt(j - 1 - slashes) === 0x5c /* \ */) slashes++;
        if (slashes % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      i = j;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}
