/**
 * `agp dataset build`: a training set from the exposures and events recorded on REDIS_URL (the same build
 * as POST /admin/v1/datasets, src/experiments/dataset-builder.ts), written to --out (atomically: a
 * `.partial` file renamed at the end) or, without --out, under TRAINING_DATA_DIR/datasets/.
 */
import { parseArgs } from 'node:util';
import type { EventType } from '../experiments/ports.js';
import type { CliRuntime } from '../runtime/index.js';
import { required, UsageError } from './cli-io.js';

export const DATASET_USAGE = `usage: agp dataset build --domain D [--since T] [--until T] [--out F] [--max-users N] [--positive-types click,add_to_cart,purchase]
  T is epoch ms or an ISO 8601 date-time; the window is [since, until), default the last EXPOSURE_TTL_SECONDS.
  Reads exposures and the item catalogue on REDIS_URL; prints the summary (rows, users, skipped) as JSON.`;

/** Epoch ms of a --since/--until value. @throws UsageError when it is neither epoch ms nor a date. */
function instant(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} must be epoch ms or an ISO 8601 date-time`);
  return ms;
}

/** Runs `agp dataset …`; returns the exit code. */
export async function datasetCommand(argv: string[], c: CliRuntime): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'build') throw new UsageError(DATASET_USAGE);
  const { values: v } = parseArgs({
    args: rest,
    options: { domain: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' }, 'max-users': { type: 'string' }, 'positive-types': { type: 'string' } },
    strict: true,
  });
  const maxUsers = v['max-users'] === undefined ? undefined : Number(v['max-users']);
  if (maxUsers !== undefined && !(Number.isInteger(maxUsers) && maxUsers >= 1)) throw new UsageError('--max-users must be a positive integer');
  const service = await c.datasets();
  const result = await service.build({
    domain: required(v.domain, 'domain'),
    since: instant(v.since, 'since'),
    until: instant(v.until, 'until'),
    out: v.out,
    maxUsers,
    positiveTypes: v['positive-types']?.split(',').map((t) => t.trim()) as EventType[] | undefined,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}
