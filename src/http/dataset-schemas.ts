/** Wire schemas of POST /admin/v1/datasets (issue 11: training sets from live traffic). */
import { z } from 'zod';
import { EVENT_TYPES } from '../experiments/ports.js';

const DOMAIN = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/);
const INSTANT = z
  .union([z.number().int().min(0), z.iso.datetime({ offset: true })])
  .describe('Epoch ms, or an ISO 8601 date-time.');

/** Epoch ms of an INSTANT value. */
export function instantMs(v: number | string | undefined): number | undefined {
  return typeof v === 'string' ? Date.parse(v) : v;
}

export const DatasetBuildSchema = z
  .object({
    domain: DOMAIN.describe('The domain whose exposures are read.'),
    since: INSTANT.optional().describe('Start of the window (inclusive); default `until` minus EXPOSURE_TTL_SECONDS.'),
    until: INSTANT.optional().describe('End of the window (exclusive); default now.'),
    positiveTypes: z
      .array(z.enum(EVENT_TYPES))
      .min(1)
      .optional()
      .describe('Event types that make an item positive; only the full set click, add_to_cart, purchase is supported (exposures keep positive counts per item, not per type).'),
    maxUsers: z.number().int().min(1).max(100_000_000).optional().describe('Most distinct users in the dataset; exposures of further users are skipped (`skipped.maxUsers`).'),
  })
  .meta({ id: 'DatasetBuildRequest' });

export const DatasetBuildResponseSchema = z
  .object({
    path: z.string().describe('The JSONL file, relative to TRAINING_DATA_DIR: pass it as a training job’s `dataset.path`.'),
    rows: z.number().int().min(0).describe('Rows written: one per exposure with a positive event.'),
    users: z.number().int().min(0).describe('Distinct users among the rows.'),
    exposures: z.number().int().min(0).describe('Exposures read from the window.'),
    partialHistory: z.number().int().min(0).describe('Rows written with some history items left out (their catalogue titles expired).'),
    skipped: z
      .object({
        noPositive: z.number().int().min(0),
        noHistory: z.number().int().min(0),
        titleExpired: z.number().int().min(0).describe('A candidate’s title (or every history title) was no longer in the item catalogue: the row was not written.'),
        maxUsers: z.number().int().min(0),
      })
      .describe('Exposures not written, by reason.'),
  })
  .meta({ id: 'DatasetBuildResponse' });
