/**
 * Appends audit records: one place that stamps `id` and `at` and tells the metrics (onAudit), used by the
 * admin service for operator actions and available to the run worker for the automatic steps.
 *
 * Ids are `<at ms, 13 digits>-<6-digit sequence><4 hex>`: time-ordered as strings within a domain (the
 * store pages on them), in write order within one process and millisecond, and unique across processes
 * writing in the same millisecond (the random tail), without a shared counter.
 */
import type { Clock } from '../agp/ports.js';
import type { AuditRecord, LoopStore } from './ports.js';

/** What an audit record says; the writer adds `id` and `at`. */
export type AuditEntry = Omit<AuditRecord, 'id' | 'at'>;

/** Writes audit records. */
export type AuditWriter = (entry: AuditEntry) => Promise<AuditRecord>;

/** An audit record id for `at` (see the file comment). */
export function auditRecordId(at: number, seq: number, tail: number = Math.floor(Math.random() * 0x10000)): string {
  const time = String(Math.max(0, Math.floor(at))).padStart(13, '0');
  return `${time}-${String(seq % 1_000_000).padStart(6, '0')}${tail.toString(16).padStart(4, '0').slice(-4)}`;
}

/** Builds a writer on `store`. `onAudit` sees every record once stored (a throwing hook is ignored). */
export function createAuditWriter(deps: { store: Pick<LoopStore, 'appendAudit'>; clock: Clock; onAudit?: ((record: AuditRecord) => void) | undefined }): AuditWriter {
  let seq = 0;
  return async (entry) => {
    const at = deps.clock.now();
    const record: AuditRecord = { id: auditRecordId(at, seq++), at, ...entry };
    await deps.store.appendAudit(record);
    try {
      deps.onAudit?.(record);
    } catch {
      // Metrics must never fail an operator action that already happened.
    }
    return record;
  };
}
