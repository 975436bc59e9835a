/**
 * `agp prompts export|import`: move prompt versions between the Redis registry and files
 * (the `{prompts:[...]}` export format).
 */
import { parseArgs } from 'node:util';
import { loadPromptFile, newestPerDomain, serializePrompts } from '../store/prompt-file.js';
import type { CliRuntime } from '../runtime/index.js';
import { required, UsageError, writeFileAtomic } from './cli-io.js';

export const PROMPTS_USAGE = `usage: agp prompts export --domain D [--out F]
       agp prompts import F [--activate]
  export   writes every version of the domain (stdout without --out)
  import   stores every version of the file; --activate then activates the newest version of each domain
  Both use the registry on REDIS_URL.`;

/** Runs `agp prompts …`; returns the exit code. */
export async function promptsCommand(argv: string[], c: CliRuntime): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'export') {
    const { values: v } = parseArgs({ args: rest, options: { domain: { type: 'string' }, out: { type: 'string' } }, strict: true });
    const domain = required(v.domain, 'domain');
    const reg = await c.registry();
    const versions = (await reg.list(domain)).map(({ active: _active, ...p }) => p);
    const text = serializePrompts(versions);
    if (v.out) {
      await writeFileAtomic(v.out, text);
      process.stderr.write(`exported ${versions.length} version(s) of ${domain} to ${v.out}\n`);
    } else process.stdout.write(text);
    return 0;
  }
  if (sub === 'import') {
    const { values: v, positionals } = parseArgs({ args: rest, options: { activate: { type: 'boolean' } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError('agp prompts import takes exactly one file');
    const versions = await loadPromptFile(positionals[0] as string);
    const reg = await c.registry();
    for (const p of versions) await reg.put(p);
    process.stderr.write(`imported ${versions.length} version(s)\n`);
    if (v.activate) {
      for (const p of newestPerDomain(versions)) {
        await reg.activate(p.domain, p.version);
        process.stderr.write(`activated ${p.domain}/${p.version}\n`);
      }
    }
    return 0;
  }
  throw new UsageError(PROMPTS_USAGE);
}
