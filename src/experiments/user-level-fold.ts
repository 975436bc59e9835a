/**
 * The fold of one user's change into an arm's user-level sums: the single definition both experiment stores
 * follow (the memory store calls it; the Redis store runs the same arithmetic in Lua, and the conformance
 * suite checks the two agree).
 *
 * Why user-level sums: in an A/B test the user is what is randomised, and one user's exposures are
 * correlated, so the variance of an arm's mean must be computed over users (always-valid.ts, meanVariance).
 * That needs Σ s_u², Σ n_u² and Σ n_u·s_u over users, which are not linear in the events. Each is a sum over
 * users of a function F of the user's totals (n_u, s_u), so one user's change adds F(after) − F(before):
 * the updates telescope, and the result does not depend on the order in which a user's exposures and events
 * arrive, as long as each user's own update is atomic.
 */

/** A user's stored totals in one arm: exposure count and per-field sums. */
export interface UserTotals {
  count: number;
  sums: Readonly<Record<string, number>>;
}

/** The change of one user in one arm (ports.ts UserDelta without the arm). */
export interface UserChange {
  count: number;
  /**
   * Deltas per field; a field the user's totals hold but the change does not name moves by 0 (its cross term
   * still moves with the count), so an exposure, which changes only the count, names none.
   */
  sums: Readonly<Record<string, number>>;
}

/** Field names of the arm-level user sums. */
export const USER_FIELDS = {
  /** Users with at least one exposure. */
  users: 'users',
  /** Σ n_u² */
  countSq: 'u.nsq',
  /** Σ s_u² of a field. */
  sumSq: (field: string) => `u.${field}.ssq`,
  /** Σ n_u·s_u of a field. */
  cross: (field: string) => `u.${field}.x`,
} as const;

/** Applies a change to a user's totals and returns them with the arm-level increments it causes. */
export function foldUserChange(before: UserTotals, change: UserChange): { after: UserTotals; increments: Record<string, number> } {
  const n0 = before.count;
  const n1 = n0 + change.count;
  const increments: Record<string, number> = {};
  const users = (n1 > 0 ? 1 : 0) - (n0 > 0 ? 1 : 0);
  if (users !== 0) increments[USER_FIELDS.users] = users;
  if (n1 !== n0) increments[USER_FIELDS.countSq] = n1 * n1 - n0 * n0;
  const sums: Record<string, number> = { ...before.sums };
  // The stored fields first, in their order, then new ones: the Lua fold's order, so both stores add the
  // same terms in the same sequence.
  const fields = Object.keys(before.sums);
  for (const field of Object.keys(change.sums)) if (!Object.hasOwn(before.sums, field)) fields.push(field);
  for (const field of fields) {
    const t0 = before.sums[field] ?? 0;
    const t1 = t0 + (change.sums[field] ?? 0);
    sums[field] = t1;
    const ssq = t1 * t1 - t0 * t0;
    const cross = n1 * t1 - n0 * t0;
    if (ssq !== 0) increments[USER_FIELDS.sumSq(field)] = ssq;
    if (cross !== 0) increments[USER_FIELDS.cross(field)] = cross;
  }
  return { after: { count: n1, sums }, increments };
}
