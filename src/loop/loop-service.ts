/**
 * The loop's admin service (issue 11), behind /admin/v1/schedules, /admin/v1/pins and /admin/v1/audit: writes
 * schedules (checked by schedule-spec.ts) and their queue job schedulers, starts a run by hand, pins a domain,
 * and reads runs and the audit trail. Every operator action leaves an audit record (actor `admin`, or
 * `config` for LOOP_SCHEDULES at start). Written against ports; the routes only map HTTP onto it.
 *
 * The automatic steps of a run are the run worker's (loop-runner.ts); this service touches a run only to
 * begin it (POST …/run) and to cancel it when its schedule is deleted.
 */
import type { Clock, PromptRegistry } from '../agp/ports.js';
import type { ExperimentAdmin } from '../experiments/experiment-admin.js';
import type { TrainingJobs } from '../jobs/training-jobs.js';
import { ConflictError, ErrorCodes, NotFoundError, isDomainError } from '../errors.js';
import { createAuditWriter, type AuditEntry } from './audit-writer.js';
import { describeSchedule, scheduleContent, scheduleView, type ScheduleView } from './loop-views.js';
import type { AuditRecord, LoopRun, LoopStore, Pin, RunScheduler, Schedule } from './ports.js';
import { checkScheduleParams, draftOf, type ConfigSchedule } from './schedule-draft-schema.js';
import { formatDuration, scheduleFromDraft, type ScheduleDraft } from './schedule-spec.js';

export type { ScheduleView, RunSummary } from './loop-views.js';

/** Who acts through the service: a person (admin API) or the chart's LOOP_SCHEDULES at start. */
export type LoopActor = 'admin' | 'config';

/** What the service is built from. */
export interface LoopServiceDeps {
  store: LoopStore;
  /** The queue's job schedulers; null without a queue Redis (then schedules cannot run: 409 SCHEDULES_UNAVAILABLE). */
  scheduler: RunScheduler | null;
  registry: Pick<PromptRegistry, 'get' | 'activate' | 'activeVersions' | 'resolve'>;
  /** Stops a cancelled run's canary. */
  experiments: Pick<ExperimentAdmin, 'stop'>;
  /** Cancels a cancelled run's training job, when training runs in reach. */
  jobs?: Pick<TrainingJobs, 'cancel'> | undefined;
  clock: Clock;
  newRunId(): string;
  /** EXPOSURE_TTL_SECONDS in ms (a schedule's window must fit in it). */
  exposureTtlMs: number;
  /** LOOP_MIN_EVERY_MS (default: the schedule rules' one minute). */
  minEveryMs?: number | undefined;
  /** LOOP_DECISION_INTERVAL_MS. */
  defaultDecisionIntervalMs: number;
  /** The trainer-parameter check; default: checkScheduleParams. */
  checkParams?: ((params: Record<string, unknown>, domain: string) => void) | undefined;
  /** Every audit record this service writes, once stored (Prometheus). */
  onAudit?: ((record: AuditRecord) => void) | undefined;
}

/** A page of the audit trail; `next` is the `before` of the following page, null on the last. */
export interface AuditPage {
  records: AuditRecord[];
  next: string | null;
}

/** The service. */
export interface LoopService {
  /** True when schedules can run (a queue is configured). */
  readonly schedulesAvailable: boolean;
  putSchedule(domain: string, draft: ScheduleDraft, actor?: LoopActor): Promise<{ schedule: ScheduleView; created: boolean }>;
  getSchedule(domain: string): Promise<ScheduleView>;
  listSchedules(): Promise<ScheduleView[]>;
  /** Removes the schedule and its job scheduler, and cancels the domain's run in progress (canary stopped). */
  deleteSchedule(domain: string, actor?: LoopActor): Promise<void>;
  pause(domain: string, actor?: LoopActor): Promise<ScheduleView>;
  resume(domain: string, actor?: LoopActor): Promise<ScheduleView>;
  /** Begins a run now and queues it (409 RUN_IN_PROGRESS, DOMAIN_PINNED, SCHEDULES_UNAVAILABLE). */
  runNow(domain: string, actor?: LoopActor): Promise<{ runId: string }>;
  /** Pins `version` (activating it when it is not active); 404 for a version the registry does not hold. */
  pin(domain: string, version: string, reason?: string, actor?: LoopActor): Promise<Pin>;
  unpin(domain: string, actor?: LoopActor): Promise<void>;
  listPins(): Promise<Pin[]>;
  isPinned(domain: string): Promise<boolean>;
  /** The domain's runs, newest first; 404 when it has neither a schedule nor a run. */
  listRuns(domain: string, limit: number): Promise<LoopRun[]>;
  listAudit(domain: string, opts: { limit: number; before?: string | undefined; runId?: string | undefined }): Promise<AuditPage>;
  /** LOOP_SCHEDULES at start: writes each schedule whose content differs from the stored one (idempotent). */
  applyConfigSchedules(list: readonly ConfigSchedule[]): Promise<{ changed: string[]; unchanged: string[]; unavailable: boolean }>;
  /** Runs not done, all scheduled domains (the agp_loop_runs_active gauge). */
  countActiveRuns(): Promise<number>;
}

/** How often cancelling re-reads a run that the worker moved on meanwhile. */
const CANCEL_ATTEMPTS = 3;

const unavailableMessage = 'scheduled retraining needs Redis (REDIS_URL or QUEUE_REDIS_URL)';

/** Builds the service. */
export function createLoopService(deps: LoopServiceDeps): LoopService {
  const { store, scheduler, clock } = deps;
  const audit = createAuditWriter({ store, clock, onAudit: deps.onAudit });
  const checkParams = deps.checkParams ?? ((params: Record<string, unknown>, domain: string) => checkScheduleParams(domain, params));

  const requireScheduler = (): RunScheduler => {
    if (!scheduler) throw new ConflictError(unavailableMessage, ErrorCodes.SCHEDULES_UNAVAILABLE);
    return scheduler;
  };
  const mustGetSchedule = async (domain: string): Promise<Schedule> => {
    const s = await store.getSchedule(domain);
    if (!s) throw new NotFoundError(`no schedule for domain "${domain}"`);
    return s;
  };
  const view = async (s: Schedule, nextRunAt?: number | null): Promise<ScheduleView> => {
    const [next, pin, run] = await Promise.all([
      nextRunAt !== undefined ? nextRunAt : scheduler && !s.paused ? scheduler.nextRunAt(s.domain) : null,
      store.getPin(s.domain),
      store.currentRun(s.domain),
    ]);
    return scheduleView(s, { nextRunAt: next, pin, run, defaultDecisionIntervalMs: deps.defaultDecisionIntervalMs });
  };
  const entry = (domain: string, actor: LoopActor, kind: AuditEntry['kind'], message: string, data: Record<string, unknown>, runId: string | null = null): AuditEntry => ({
    domain,
    kind,
    runId,
    actor,
    message,
    data,
  });

  /** Stores `schedule` and (re)creates its job scheduler; resolves the next firing. */
  async function write(schedule: Schedule): Promise<number | null> {
    await store.putSchedule(schedule);
    return (await requireScheduler().upsert(schedule)).nextRunAt;
  }

  async function put(domain: string, draft: ScheduleDraft, actor: LoopActor, existing: Schedule | null): Promise<Schedule> {
    return scheduleFromDraft(draft, {
      domain,
      now: clock.now(),
      existing,
      source: actor === 'config' ? 'config' : 'api',
      exposureTtlMs: deps.exposureTtlMs,
      minEveryMs: deps.minEveryMs,
      defaultDecisionIntervalMs: deps.defaultDecisionIntervalMs,
      checkParams: (params) => checkParams(params, domain),
    });
  }

  async function setPaused(domain: string, paused: boolean, actor: LoopActor): Promise<ScheduleView> {
    requireScheduler();
    const s = await mustGetSchedule(domain);
    const changed = s.paused !== paused;
    const next: Schedule = changed ? { ...s, paused, updatedAt: clock.now() } : s;
    // Upserted even when unchanged: pausing twice also makes sure the queue holds no job scheduler.
    const nextRunAt = await write(next);
    const what = paused ? 'paused: the schedule does not fire (a run in progress goes on)' : 'resumed: the schedule fires again';
    await audit(entry(domain, actor, paused ? 'paused' : 'resumed', changed ? what : `${what} (it already was)`, { changed }));
    return view(next, nextRunAt);
  }

  /** Stops a run's side effects in flight (canary, training job); what is already gone is fine. */
  async function stopSideEffects(run: LoopRun): Promise<void> {
    const quiet = (err: unknown) => {
      if (!isDomainError(err) || (err.kind !== 'not_found' && err.kind !== 'conflict')) throw err;
    };
    // The canary's id is derived from the runId, so one created but not yet recorded on the run is stopped too.
    await deps.experiments.stop(run.experimentId ?? `canary-${run.runId}`).catch(quiet);
    if (deps.jobs && (run.step === 'dataset' || run.step === 'train')) await deps.jobs.cancel(run.trainingJobId ?? `loop-${run.runId}`).catch(quiet);
  }

  /** Ends the domain's run in progress as `cancelled`; resolves it, or null when there was none. */
  async function cancelRun(domain: string, reason: string, actor: LoopActor): Promise<LoopRun | null> {
    for (let attempt = 0; attempt < CANCEL_ATTEMPTS; attempt++) {
      const run = await store.currentRun(domain);
      // A run with an outcome is ending (the worker records it before stopping or promoting the canary): its
      // ending is idempotent and resumed by the worker, so it is left to finish rather than overwritten.
      if (!run || run.step === 'done' || run.outcome !== undefined) return null;
      await stopSideEffects(run);
      const now = clock.now();
      const ended: LoopRun = { ...run, step: 'done', outcome: 'cancelled', reason, finishedAt: now, updatedAt: now };
      if (await store.updateRun(ended)) {
        await audit(entry(domain, actor, 'run_ended', `run cancelled at step ${run.step}: ${reason}`, { outcome: 'cancelled', step: run.step, experimentId: run.experimentId ?? null }, run.runId));
        return ended;
      }
      // The worker moved the run on between the read and the write: read it again (it may hold a canary now).
    }
    throw new ConflictError(`the run of domain "${domain}" kept changing while it was being cancelled; retry`);
  }

  return {
    schedulesAvailable: scheduler !== null,

    async putSchedule(domain, draft, actor = 'admin') {
      requireScheduler();
      const existing = await store.getSchedule(domain);
      const schedule = await put(domain, draft, actor, existing);
      const nextRunAt = await write(schedule);
      const verb = existing ? 'replaced' : 'created';
      await audit(entry(domain, actor, 'schedule_changed', `schedule ${verb}: ${describeSchedule(schedule, formatDuration)}`, { change: verb, schedule }));
      return { schedule: await view(schedule, nextRunAt), created: !existing };
    },

    async getSchedule(domain) {
      return view(await mustGetSchedule(domain));
    },

    async listSchedules() {
      return Promise.all((await store.listSchedules()).map((s) => view(s)));
    },

    async deleteSchedule(domain, actor = 'admin') {
      const s = await mustGetSchedule(domain);
      // The schedule goes last, so a failure half-way leaves it in place and the DELETE can be retried.
      await scheduler?.remove(domain);
      await cancelRun(domain, `its schedule was deleted by ${actor}`, actor);
      await store.deleteSchedule(domain);
      await audit(entry(domain, actor, 'schedule_changed', `schedule deleted (was ${describeSchedule(s, formatDuration)})`, { change: 'deleted' }));
    },

    pause: (domain, actor = 'admin') => setPaused(domain, true, actor),
    resume: (domain, actor = 'admin') => setPaused(domain, false, actor),

    async runNow(domain, actor = 'admin') {
      const queue = requireScheduler();
      const schedule = await mustGetSchedule(domain);
      const pin = await store.getPin(domain);
      if (pin) throw new ConflictError(`domain "${domain}" is pinned to ${pin.version}${pin.reason ? ` (${pin.reason})` : ''}: unpin it first`, ErrorCodes.DOMAIN_PINNED);
      const now = clock.now();
      const run: LoopRun = { runId: deps.newRunId(), domain, trigger: 'manual', startedAt: now, updatedAt: now, step: 'dataset', baseVersion: deps.registry.resolve(domain).version, schedule };
      // Begun here, atomically, so a second POST gets its 409 now; the worker resumes this run by its id.
      const busy = await store.beginRun(run);
      if (busy) throw new ConflictError(`run ${busy.runId} of domain "${domain}" is in progress (step ${busy.step})`, ErrorCodes.RUN_IN_PROGRESS);
      await audit(entry(domain, actor, 'run_started', `run started by ${actor} (base version ${run.baseVersion})`, { trigger: 'manual', baseVersion: run.baseVersion }, run.runId));
      try {
        await queue.runNow(domain, run.runId);
      } catch (err) {
        const at = clock.now();
        const reason = 'the run could not be queued';
        if (await store.updateRun({ ...run, step: 'done', outcome: 'failed', reason, finishedAt: at, updatedAt: at })) {
          await audit(entry(domain, actor, 'run_ended', `run failed: ${reason}`, { outcome: 'failed' }, run.runId));
        }
        throw err;
      }
      return { runId: run.runId };
    },

    async pin(domain, version, reason = '', actor = 'admin') {
      if (!(await deps.registry.get(domain, version))) throw new NotFoundError(`prompt version ${domain}/${version} not found`);
      const previous = deps.registry.activeVersions()[domain] ?? null;
      const pin: Pin = { domain, version, reason, at: clock.now() };
      // Pinned before activating: from here on the loop leaves the domain alone.
      await store.setPin(domain, pin);
      const activated = previous !== version;
      if (activated) await deps.registry.activate(domain, version);
      const message = `pinned to ${version}${activated ? ` (activated; was ${previous ?? 'none'})` : ' (already active)'}${reason ? `: ${reason}` : ''}`;
      await audit(entry(domain, actor, 'pinned', message, { version, previousVersion: previous, activated, reason }));
      return pin;
    },

    async unpin(domain, actor = 'admin') {
      const pin = await store.getPin(domain);
      if (!pin || !(await store.setPin(domain, null))) throw new NotFoundError(`domain "${domain}" is not pinned`);
      await audit(entry(domain, actor, 'unpinned', `unpinned (was pinned to ${pin.version}): the loop may change the active version again`, { version: pin.version }));
    },

    listPins: () => store.listPins(),
    isPinned: async (domain) => (await store.getPin(domain)) !== null,

    async listRuns(domain, limit) {
      const runs = await store.listRuns(domain, limit);
      if (runs.length === 0 && !(await store.getSchedule(domain))) throw new NotFoundError(`no schedule and no runs for domain "${domain}"`);
      return runs;
    },

    async listAudit(domain, opts) {
      // One more than asked says whether there is a next page without a second read.
      const got = await store.listAudit(domain, { ...opts, limit: opts.limit + 1 });
      const records = got.slice(0, opts.limit);
      return { records, next: got.length > opts.limit ? (records.at(-1)?.id ?? null) : null };
    },

    async applyConfigSchedules(list) {
      const changed: string[] = [];
      const unchanged: string[] = [];
      if (list.length === 0 || !scheduler) return { changed, unchanged, unavailable: list.length > 0 };
      for (const item of list) {
        const existing = await store.getSchedule(item.domain);
        const draft = draftOf(item);
        // A pause made through the API survives restarts unless the chart says `paused` itself.
        const schedule = await put(item.domain, { ...draft, paused: draft.paused ?? existing?.paused ?? false }, 'config', existing);
        if (existing && scheduleContent(existing) === scheduleContent(schedule)) {
          unchanged.push(item.domain);
          // Re-created only when the queue lost it (an emptied queue Redis): an upsert would move `every`'s next firing.
          if (!existing.paused && (await scheduler.nextRunAt(item.domain)) === null) await scheduler.upsert(existing);
          continue;
        }
        await write(schedule);
        const verb = existing ? 'replaced' : 'created';
        await audit(entry(item.domain, 'config', 'schedule_changed', `schedule ${verb} from LOOP_SCHEDULES: ${describeSchedule(schedule, formatDuration)}`, { change: verb, schedule }));
        changed.push(item.domain);
      }
      return { changed, unchanged, unavailable: false };
    },

    async countActiveRuns() {
      const runs = await Promise.all((await store.listSchedules()).map((s) => store.currentRun(s.domain)));
      return runs.filter((r) => r !== null && r.step !== 'done').length;
    },
  };
}
