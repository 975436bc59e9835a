/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by package / service file and the top
 * self-time functions, plus inclusive time of selected service functions. Used by `--cpu-prof`.
 */
import { readFile } from 'node:fs/promises';

/** A V8 .cpuprofile's frame, node and whole profile (the parts read here and in cpuprofile-blocks.ts). */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Non-idle sampled time. */
  busyMs: number;
  byModule: Array<{ module: string; selfMs: number; pct: number }>;
  /**
   * Self time charged to the nearest frame on the stack that is neither native nor Node's own (node:)
   * code: "which package or service file caused this CPU", socket writes included.
   */
  byOwner: Array<{ owner: string; ms: number; pct: number }>;
  topFunctions: Array<{ fn: string; module: string; selfMs: number; pct: number }>;
  /** Inclusive time (self + callees) of frames whose module or name matches, as % of busy time. */
  inclusive: Array<{ frame: string; totalMs: number; pct: number }>;
  /** For the heaviest native/builtin self-time frames: which JS call chains they were reached from. */
  nativeCallers: Array<{ fn: string; pct: number; callers: Array<{ chain: string; pct: number }> }>;
}

/** The bucket a frame's self time is charged to. */
export function moduleOf(url: string, fn: string, repoRoot: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts[0] === 'internal' ? `internal/${parts[1] ?? ''}` : (parts[0] ?? '')}`;
  }
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 14).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? path);
  }
  if (path.startsWith(repoRoot)) return path.slice(repoRoot.length + 1);
  return path;
}

/**
 * @param window CLOCK_MONOTONIC µs bounds (V8 profile timestamps use the same clock on Linux); samples
 *   outside are ignored, so start-up and warm-up do not pollute the summary.
 */
export async function summariseProfile(
  file: string,
  repoRoot: string,
  inclusiveMatchers: string[],
  window?: { start: number; end: number },
): Promise<ProfileSummary & { samplesInWindow: number; samplesTotal: number }> {
  const prof = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  let ts = prof.startTime;
  let inWindow = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const delta = prof.timeDeltas[i] ?? 0;
    ts += delta;
    if (window && (ts < window.start || ts > window.end)) continue;
    inWindow++;
    const id = prof.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  let total = 0;
  let idle = 0;
  const mod = new Map<string, number>();
  const fns = new Map<string, { module: string; us: number }>();
  const incl = new Map<string, number>();
  const owners = new Map<string, number>();
  // native self-time frame → (caller chain → µs)
  const nativeBy = new Map<string, Map<string, number>>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const m = moduleOf(url, functionName, repoRoot);
    mod.set(m, (mod.get(m) ?? 0) + us);
    let owner = url && !url.startsWith('node:') ? m : undefined;
    for (let cur = parent.get(id); owner === undefined && cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)?.callFrame;
      if (cf?.url && !cf.url.startsWith('node:')) owner = moduleOf(cf.url, cf.functionName, repoRoot);
    }
    owner ??= url ? '(node internals, no package caller)' : m === '(native)' ? '(native, no JS caller)' : m;
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const key = `${functionName || '(anonymous)'} ${m}:${lineNumber + 1}`;
    const f = fns.get(key) ?? { module: m, us: 0 };
    f.us += us;
    fns.set(key, f);
    if (!url) {
      // Nearest two frames outside Node's own modules (or a node: frame when nothing else is on the stack).
      const chain: string[] = [];
      let firstNode: string | undefined;
      for (let cur = parent.get(id); cur !== undefined && chain.length < 2; cur = parent.get(cur)) {
        const cf = byId.get(cur)?.callFrame;
        if (!cf) break;
        if (!cf.url) continue;
        const label = `${cf.functionName || '(anonymous)'} ${moduleOf(cf.url, cf.functionName, repoRoot)}`;
        if (cf.url.startsWith('node:')) firstNode ??= label;
        else chain.push(label);
      }
      if (chain.length === 0 && firstNode) chain.push(firstNode);
      const byChain = nativeBy.get(functionName) ?? new Map<string, number>();
      const c = chain.join(' < ') || '(no JS caller)';
      byChain.set(c, (byChain.get(c) ?? 0) + us);
      nativeBy.set(functionName, byChain);
    }
    // Inclusive: charge this sample to every distinct matching frame on its stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)?.callFrame;
      if (!cf) break;
      const frameModule = moduleOf(cf.url, cf.functionName, repoRoot);
      const label = `${cf.functionName || '(anonymous)'} ${frameModule}`;
      if (seen.has(label)) continue;
      if (inclusiveMatchers.some((x) => label.includes(x))) {
        seen.add(label);
        incl.set(label, (incl.get(label) ?? 0) + us);
      }
    }
  }
  const busy = Math.max(1, total - idle);
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    samplesInWindow: inWindow,
    samplesTotal: prof.samples.length,
    totalMs: ms(total),
    busyMs: ms(busy),
    byModule: [...mod.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([module, us]) => ({ module, selfMs: ms(us), pct: pct(us) })),
    byOwner: [...owners.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([owner, us]) => ({ owner, ms: ms(us), pct: pct(us) })),
    topFunctions: [...fns.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, 40)
      .map(([fn, v]) => ({ fn, module: v.module, selfMs: ms(v.us), pct: pct(v.us) })),
    inclusive: [...incl.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 60)
      .map(([frame, us]) => ({ frame, totalMs: ms(us), pct: pct(us) })),
    nativeCallers: [...nativeBy.entries()]
      .map(([fn, chains]) => ({ fn, us: [...chains.values()].reduce((a, b) => a + b, 0), chains }))
      .sort((a, b) => b.us - a.us)
      .slice(0, 6)
      .map(({ fn, us, chains }) => ({
        fn,
        pct: pct(us),
        callers: [...chains.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([chain, cu]) => ({ chain, pct: pct(cu) })),
      })),
  };
}
