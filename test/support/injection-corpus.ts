/**
 * The adversarial title corpus (test/fixtures/injection-corpus.json), loaded once for the injection tests.
 */
import { readFileSync } from 'node:fs';

/** One adversarial string, with its category and why it is there. */
export interface CorpusEntry {
  id: string;
  category: string;
  text: string;
  /** Repeat `text` this many times (very long strings without a huge fixture file). */
  repeat?: number;
  note: string;
}

/** The corpus as stored. */
export const corpus = JSON.parse(readFileSync(new URL('../fixtures/injection-corpus.json', import.meta.url), 'utf8')) as {
  entries: CorpusEntry[];
};

/** The entry's full text (its repeats applied). */
export const expand = (e: CorpusEntry): string => e.text.repeat(e.repeat ?? 1);
