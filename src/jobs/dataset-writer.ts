/**
 * Writes a built dataset (src/experiments/dataset-builder.ts) to a file: to `<file>.partial` first, renamed
 * into place only when the build finished, so a crashed or failed build never leaves a half file that a
 * training job could pick up. Writes honour the stream's backpressure (a slow disk slows the scan instead of
 * buffering the window in memory).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DatasetSink } from '../experiments/dataset-builder.js';

/** An open dataset file. */
export interface DatasetFile {
  sink: DatasetSink;
  /** Flushes, closes and renames the file into place. */
  commit(): Promise<void>;
  /** Closes and removes the partial file. */
  abort(): Promise<void>;
}

/** Opens `path` (its directory is created) for a build. */
export async function openDatasetFile(path: string): Promise<DatasetFile> {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const out = createWriteStream(partial, { flags: 'w', mode: 0o640 });
  let failed: Error | undefined;
  out.on('error', (err) => (failed = err));
  const close = () => new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return {
    sink: {
      write(line) {
        if (failed) return Promise.reject(failed);
        if (out.write(line)) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          const onDrain = () => (out.off('error', onError), resolve());
          const onError = (err: Error) => (out.off('drain', onDrain), reject(err));
          out.once('drain', onDrain);
          out.once('error', onError);
        });
      },
    },
    async commit() {
      await close();
      if (failed) throw failed;
      await rename(partial, path);
    },
    async abort() {
      await close().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}
