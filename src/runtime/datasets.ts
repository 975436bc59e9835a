/**
 * The dataset service (POST /admin/v1/datasets, `agp dataset build`): the pure builder over the exposure
 * store and the item catalogue, writing through src/jobs/dataset-writer.ts. The API names the file itself,
 * under `<TRAINING_DATA_DIR>/datasets/`, so no caller-given path can escape the data directory; the answer's
 * `path` is relative to TRAINING_DATA_DIR, ready for a training job's `{dataset: {path}}`.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Clock } from '../agp/ports.js';
import { buildDataset, type DatasetBuildRequest, type DatasetService } from '../experiments/dataset-builder.js';
import type { ItemCatalogue } from '../experiments/item-catalogue.js';
import type { ExposureStore } from '../experiments/ports.js';
import { openDatasetFile } from '../jobs/dataset-writer.js';
import { DEPENDENCY_RETRY_AFTER_SECONDS, isDomainError, unavailable } from '../errors.js';

/** What the service is built from. */
export interface DatasetServiceParts {
  exposures: ExposureStore;
  catalogue: ItemCatalogue;
  dataDir: string;
  clock: Clock;
  /** The default window: the exposures' lifetime (EXPOSURE_TTL_SECONDS), ending now. */
  defaultWindowMs: number;
}

/** A file name for a build: the domain (made safe) and the build time. */
export function datasetFileName(domain: string, at: number): string {
  const safe = domain.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'domain';
  return `${safe}-${new Date(at).toISOString().replace(/[:.]/g, '-')}.jsonl`;
}

/** Builds the service. */
export function createDatasetService(p: DatasetServiceParts): DatasetService {
  return {
    async build(req: DatasetBuildRequest) {
      const now = p.clock.now();
      const until = req.until ?? now;
      const since = req.since ?? until - p.defaultWindowMs;
      const root = resolve(p.dataDir);
      const target = req.out ? resolve(req.out) : join(root, 'datasets', datasetFileName(req.domain, now));
      const file = await openDatasetFile(target);
      try {
        const summary = await buildDataset({ exposures: p.exposures, catalogue: p.catalogue }, { domain: req.domain, since, until, positiveTypes: req.positiveTypes, maxUsers: req.maxUsers }, file.sink);
        await file.commit();
        const rel = relative(root, target);
        return { ...summary, path: req.out || rel.startsWith('..') || isAbsolute(rel) ? target : rel };
      } catch (err) {
        await file.abort();
        // A store (or disk) failure is a 503 with no file left behind; validation errors stay 400s.
        if (isDomainError(err)) throw err;
        throw unavailable(`the dataset could not be built: ${err instanceof Error ? err.message : String(err)}`, DEPENDENCY_RETRY_AFTER_SECONDS);
      }
    },
  };
}
