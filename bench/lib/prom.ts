/**
 * Reads the service's own counters from GET /metrics (outside the CPU window), so each scenario can say
 * how many reranks really used the LLM, fell back, hit the profile cache, or refreshed in the background.
 */
import { request } from 'undici';

/** series ("name{labels}") → value, for the counters the bench reports. */
export type Counters = Record<string, number>;

const WANTED = [
  'agp_rerank_total',
  'agp_rerank_fallbacks_total',
  'agp_llm_calls_total',
  'agp_profile_cache_total',
  'agp_profile_refresh_total',
  'agp_parse_total',
];

export async function scrapeCounters(origin: string): Promise<Counters> {
  const res = await request(`${origin}/metrics`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET /metrics: ${res.statusCode}`);
  const out: Counters = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const sp = line.lastIndexOf(' ');
    const series = line.slice(0, sp);
    const name = series.split('{')[0] ?? '';
    if (!WANTED.includes(name)) continue;
    out[series] = Number(line.slice(sp + 1));
  }
  return out;
}

/** after − before, dropping zero deltas; series keys keep their label sets. */
export function counterDelta(before: Counters, after: Counters): Counters {
  const out: Counters = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Sum of a metric's deltas whose labels match every `label="value"` given. */
export function sumSeries(c: Counters, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, v] of Object.entries(c)) {
    if (!series.startsWith(`${name}{`) && series !== name) continue;
    if (Object.entries(labels).every(([k, val]) => series.includes(`${k}="${val}"`))) sum += v;
  }
  return sum;
}
