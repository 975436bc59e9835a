/**
 * Which users of a dataset are held out for the offline gate. Decided per real user id (the dataset row's
 * `user`, not its `userId`, which is `<user>#<requestId>`), so all of a person's exposures land on the same
 * side and the gate never scores a user the candidate trained on. A salted hash makes the split stable for
 * a run (resuming re-splits identically) and different between runs (salt = the runId), so no user is
 * always in the holdout.
 */
import { createHash } from 'node:crypto';

/**
 * True when `user` is in the held-out share. Stable for a (salt, user) pair; over many users the held-out
 * fraction is `share` (0 holds out nobody, 1 everybody).
 */
export function isHeldOut(user: string, share: number, salt: string): boolean {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`holdout share must be in [0, 1], got ${share}`);
  // Length-prefixing the salt keeps ("ab", "c") and ("a", "bc") apart.
  const digest = createHash('sha256').update(`${salt.length}:${salt}\0${user}`).digest();
  // 48 bits of the digest as a fraction in [0, 1): fine-grained enough for any share a person would pick.
  return digest.readUIntBE(0, 6) / 2 ** 48 < share;
}
