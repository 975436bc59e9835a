import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SUMS_SHARDS, clusterHashTag, createKeySchema, decodeSegment, encodeSegment, idHash, sumsShard, userHash } from '../../src/store/key-schema.js';

const base = { domain: 'movies', promptVersion: 'v1', userId: 'u1', historyDigest: 'abc123' };

describe('key schema', () => {
  it('uses the configured prefix, defaulting to agp', () => {
    expect(createKeySchema().profileIndex('u1').startsWith('agp:prof:{')).toBe(true);
    expect(createKeySchema('svc').promptActive()).toBe('svc:prompts:{reg}:active');
  });

  it('spells the profile keys exactly as documented', () => {
    const k = createKeySchema('agp');
    const uh = createHash('sha256').update('u1').digest('hex').slice(0, 32);
    expect(userHash('u1')).toBe(uh);
    expect(k.profileExact(base)).toBe(`agp:prof:{${uh}}:movies:v1:abc123`);
    expect(k.profileLatest(base)).toBe(`agp:prof:{${uh}}:movies:v1:latest`);
    expect(k.profileIndex('u1')).toBe(`agp:prof:{${uh}}:idx`);
    expect(k.profileErasure('u1')).toBe(`agp:prof:{${uh}}:erased`);
  });

  it('never puts the raw user id into a key', () => {
    const k = createKeySchema();
    const userId = 'alice@example.com';
    for (const key of [k.profileExact({ ...base, userId }), k.profileLatest({ ...base, userId }), k.profileIndex(userId)]) {
      expect(key).not.toContain('alice');
    }
  });

  it('gives a user id containing braces and colons a single hash tag shared by all of the user’s keys', () => {
    const k = createKeySchema();
    const userId = 'evil}{user:1}:{x';
    const keys = [
      k.profileExact({ ...base, userId }),
      k.profileExact({ ...base, userId, domain: 'books', promptVersion: 'v9', historyDigest: 'zz' }),
      k.profileLatest({ ...base, userId }),
      k.profileIndex(userId),
    ];
    const tags = new Set(keys.map(clusterHashTag));
    expect(tags.size).toBe(1);
    expect([...tags][0]).toBe(userHash(userId));
    expect([...tags][0]).toMatch(/^[0-9a-f]{32}$/);
    for (const key of keys) {
      expect(key.split('{').length - 1).toBe(1);
      expect(key.split('}').length - 1).toBe(1);
    }
  });

  it('different users get different tags', () => {
    const k = createKeySchema();
    expect(clusterHashTag(k.profileIndex('a'))).not.toBe(clusterHashTag(k.profileIndex('b')));
  });

  it('ids with lone surrogates get their own tag: never that of the U+FFFD spelling, nor of another surrogate', () => {
    const tags = ['alice\ud800', 'alice\udc00', 'alice\ufffd', 'alice\ud83d', 'alice'].map(userHash);
    expect(new Set(tags).size).toBe(tags.length);
    // Well-formed ids keep the tag they always had (sha256 of UTF-8), so stored profiles stay reachable.
    expect(userHash('alice\ufffd')).toBe(createHash('sha256').update('alice\ufffd', 'utf8').digest('hex').slice(0, 32));
    expect(userHash('🎬')).toBe(createHash('sha256').update('🎬', 'utf8').digest('hex').slice(0, 32));
  });

  it('the memoised userHash always answers what the hash itself does, across memo generations', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? `u\ud800${i}` : `user-${i}`));
    // Three passes: first hashes, then hits in the current or the previous generation, then after flips.
    for (let pass = 0; pass < 3; pass++) {
      for (let i = pass; i < ids.length; i += 97) expect(userHash(ids[i]!)).toBe(idHash(ids[i]!));
      for (const id of ids) userHash(id);
    }
    expect(idHash('alice')).toBe(createHash('sha256').update('alice', 'utf8').digest('hex').slice(0, 32));
    // Request ids (exposure tags) use the unmemoised hash, with the same value.
    expect(createKeySchema().exposureTag('r-1')).toBe(userHash('r-1'));
  });

  it('escapes domain, version and digest so separators cannot collide', () => {
    const k = createKeySchema();
    const a = k.profileExact({ ...base, domain: 'a:b', promptVersion: 'c' });
    const b = k.profileExact({ ...base, domain: 'a', promptVersion: 'b:c' });
    expect(a).not.toBe(b);
    expect(a).toContain(':a%3Ab:c:');
    const braces = k.profileExact({ ...base, domain: '{x}', promptVersion: 'v 1' });
    expect(braces.split('{').length - 1).toBe(1);
    expect(braces).toContain(':%7Bx%7D:v%201:');
    expect(decodeSegment(encodeSegment('d:{}/ é'))).toBe('d:{}/ é');
  });

  it('a history digest spelled "latest" does not overwrite the latest entry', () => {
    const k = createKeySchema();
    expect(k.profileExact({ ...base, historyDigest: 'latest' })).not.toBe(k.profileLatest(base));
  });

  it('keeps prompt keys under one {reg} tag, per-domain version hashes and a channel', () => {
    const k = createKeySchema('p');
    expect(k.promptVersions('movies')).toBe('p:prompts:{reg}:versions:movies');
    expect(k.promptVersions('a:b')).toBe('p:prompts:{reg}:versions:a%3Ab');
    expect(k.promptDomains()).toBe('p:prompts:{reg}:domains');
    expect(k.promptActive()).toBe('p:prompts:{reg}:active');
    expect(k.promptActivatedChannel()).toBe('p:prompts:activated');
    const tags = new Set([k.promptVersions('x'), k.promptDomains(), k.promptActive()].map(clusterHashTag));
    expect([...tags]).toEqual(['reg']);
  });

  it('one exposure’s keys share a requestId tag; the exposure index and tombstone share the user’s profile tag', () => {
    const k = createKeySchema('agp');
    const requestId = 'req-{a}:b';
    const tag = k.exposureTag(requestId);
    expect(tag).toMatch(/^[0-9a-f]{32}$/);
    const own = [k.exposureDoc(tag), k.exposureEvents(tag), k.exposurePositives(tag)];
    expect(new Set(own.map(clusterHashTag))).toEqual(new Set([tag]));
    expect(new Set(own).size).toBe(3);
    for (const key of own) expect(key).not.toContain('req-');
    const user = [k.exposureUserIndex('alice'), k.exposureErasure('alice')];
    expect(user.map(clusterHashTag)).toEqual([userHash('alice'), userHash('alice')]);
    expect(user).not.toContain(k.profileIndex('alice'));
    expect(clusterHashTag(k.experimentSums('exp:{1}', 3))).toBe(`${encodeSegment('exp:{1}')}.3`);
    expect(clusterHashTag(k.experimentUserTotals('exp:{1}', 3))).toBe(`${encodeSegment('exp:{1}')}.3`);
    expect(k.experimentUserTotals('exp:{1}', 3)).not.toBe(k.experimentSums('exp:{1}', 3));
    const reg = [k.experimentDocs(), k.experimentStops(), k.experimentPValues(), k.experimentRunning(), k.experimentOrder()];
    expect(new Set(reg.map(clusterHashTag))).toEqual(new Set(['registry']));
    expect(new Set(reg).size).toBe(5);
  });

  it('sums shards: stable per user, within 0–15, every shard used, distinct tags per (experiment, shard)', () => {
    expect(SUMS_SHARDS).toBe(16);
    expect(sumsShard('alice')).toBe(sumsShard('alice'));
    // Pinned (FNV-1a 32-bit: alice = 0x872213e7): the shard decides where stored totals live, so it must never change.
    expect(['alice', 'bob', ''].map(sumsShard)).toEqual([7, 4, 5]);
    const shards = new Set(Array.from({ length: 500 }, (_, i) => sumsShard(`user-${i}`)));
    expect([...shards].every((s) => Number.isInteger(s) && s >= 0 && s < 16)).toBe(true);
    expect(shards.size).toBe(16);
    const k = createKeySchema('agp');
    const tags = new Set(['a', 'a.1', 'a.1.2'].flatMap((id) => Array.from({ length: 16 }, (_, s) => clusterHashTag(k.experimentSums(id, s)))));
    expect(tags.size).toBe(48);
  });

  it('rejects prefixes that would capture the hash tag', () => {
    expect(() => createKeySchema('a{b')).toThrow(/prefix/);
    expect(() => createKeySchema('')).toThrow(/prefix/);
  });

  it('clusterHashTag follows the Redis Cluster rule', () => {
    expect(clusterHashTag('{user1000}.following')).toBe('user1000');
    expect(clusterHashTag('foo{}{bar}')).toBe('foo{}{bar}');
    expect(clusterHashTag('foo{{bar}}zap')).toBe('{bar');
    expect(clusterHashTag('foo{bar}{zap}')).toBe('bar');
    expect(clusterHashTag('plain')).toBe('plain');
  });
});
