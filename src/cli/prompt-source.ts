/**
 * Where a command's profile prompt comes from: a prompt file (export format), a registry version
 * (REDIS_URL), or the built-in prompt.
 */
import type { PromptVersion } from '../agp/ports.js';
import { BUILTIN_PROFILE_PROMPT } from '../agp/prompts.js';
import { BUILTIN_PROMPT_VERSION, DEFAULT_DOMAIN, DEFAULT_HISTORY_LENGTH } from '../agp/types.js';
import { loadPromptFile } from '../store/prompt-file.js';
import type { CliRuntime } from '../runtime/index.js';
import { UsageError } from './cli-io.js';

/** The chosen prompt and its version name (the built-in prompt is `builtin-v0`). */
export interface PickedPrompt {
  version: string;
  text: string;
  historyLength: number;
  source: 'file' | 'registry' | 'builtin';
}

/** The built-in prompt as a version (parent of a first training run). */
export function builtinPromptVersion(domain = DEFAULT_DOMAIN): PromptVersion {
  return {
    domain,
    version: BUILTIN_PROMPT_VERSION,
    text: BUILTIN_PROFILE_PROMPT,
    parentVersion: null,
    createdAt: new Date(0).toISOString(),
    historyLength: DEFAULT_HISTORY_LENGTH,
  };
}

function fromVersion(v: PromptVersion, source: PickedPrompt['source']): PickedPrompt {
  return { version: v.version, text: v.text, historyLength: v.historyLength, source };
}

/**
 * Picks the prompt: with a file, the named version (`promptVersion`), else the newest of `domain`, else
 * the only one; with `promptVersion` alone, that version of `domain` from the registry; else the built-in.
 */
export async function pickPrompt(
  c: CliRuntime,
  o: { promptFile?: string | undefined; promptVersion?: string | undefined; domain?: string | undefined },
): Promise<PickedPrompt> {
  if (o.promptFile) {
    const all = await loadPromptFile(o.promptFile);
    if (o.promptVersion) {
      const v = all.find((p) => p.version === o.promptVersion && (o.domain === undefined || p.domain === o.domain));
      if (!v) throw new UsageError(`${o.promptFile} has no version "${o.promptVersion}"`);
      return fromVersion(v, 'file');
    }
    const mine = o.domain === undefined ? all : all.filter((p) => p.domain === o.domain);
    const pool = mine.length > 0 ? mine : all.length === 1 ? all : [];
    const newest = pool.reduce<PromptVersion | undefined>((a, b) => (!a || Date.parse(b.createdAt) >= Date.parse(a.createdAt) ? b : a), undefined);
    if (!newest) {
      const domains = [...new Set(all.map((p) => p.domain))].join(', ');
      throw new UsageError(`${o.promptFile} has no prompt for domain "${o.domain ?? ''}" (it has: ${domains || 'none'})`);
    }
    return fromVersion(newest, 'file');
  }
  if (o.promptVersion) {
    if (!o.domain) throw new UsageError('--prompt-version needs --domain');
    const reg = await c.registry();
    const v = await reg.get(o.domain, o.promptVersion);
    if (!v) throw new UsageError(`prompt version ${o.domain}/${o.promptVersion} not found in the registry`);
    return fromVersion(v, 'registry');
  }
  return fromVersion(builtinPromptVersion(o.domain), 'builtin');
}
