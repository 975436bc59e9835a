/**
 * API keys from a mounted file (API_KEYS_FILE; the chart mounts it from a Secret), for setups without Redis.
 * The file is a JSON array of `{ "name", "hash", "rateLimit"?, "dailyLlmCallQuota"? }` where `hash` is the
 * sha256 hex of the key (`printf %s "$KEY" | sha256sum`): the Secret never holds a usable key. The file is
 * re-read on every reload, so an edited Secret applies without a restart (once the kubelet updates the
 * mount). Read-only: the admin API lists these keys but cannot create, revoke or rotate them. Usage and daily
 * quotas are counted in memory, per replica.
 */
import { readFile } from 'node:fs/promises';
import type { ApiKeyRecord, ApiKeyStore } from '../api-keys/api-keys.js';
import { API_KEY_NAME } from '../api-keys/api-keys.js';
import { MemoryKeyUsage } from './memory-api-key-store.js';

const HEX64 = /^[0-9a-f]{64}$/;
const optionalLimit = (v: unknown, field: string, at: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`${at}: ${field} must be a non-negative integer`);
  return v;
};

/** Parses the file's text into records; throws naming the first bad entry (never echoing a hash). */
export function parseApiKeysFile(text: string): ApiKeyRecord[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new Error('API_KEYS_FILE must hold a JSON array');
  const seen = new Set<string>();
  return data.map((raw: unknown, i): ApiKeyRecord => {
    const at = `API_KEYS_FILE[${i}]`;
    if (raw === null || typeof raw !== 'object') throw new Error(`${at}: must be an object`);
    const e = raw as Record<string, unknown>;
    if (typeof e.name !== 'string' || !API_KEY_NAME.test(e.name)) throw new Error(`${at}: name must match ${API_KEY_NAME.source}`);
    if (seen.has(e.name)) throw new Error(`${at}: duplicate name "${e.name}"`);
    seen.add(e.name);
    if (typeof e.hash !== 'string' || !HEX64.test(e.hash.toLowerCase())) throw new Error(`${at}: hash must be the sha256 of the key, 64 hex characters`);
    return {
      name: e.name,
      hash: e.hash.toLowerCase(),
      prefix: '',
      last4: '',
      createdAt: 0,
      revokedAt: null,
      rateLimit: optionalLimit(e.rateLimit, 'rateLimit', at),
      dailyLlmCallQuota: optionalLimit(e.dailyLlmCallQuota, 'dailyLlmCallQuota', at),
    };
  });
}

/** A read-only store over `path`. */
export function createFileApiKeyStore(path: string): ApiKeyStore {
  const usage = new MemoryKeyUsage();
  return {
    kind: 'file',
    async list() {
      return parseApiKeysFile(await readFile(path, 'utf8'));
    },
    async addUsage(name, day, delta) {
      usage.add(name, day, delta);
    },
    async llmCallsOn(name, day) {
      return usage.llmCallsOn(name, day);
    },
    async usage(names, day) {
      return usage.usage(names, day);
    },
  };
}
