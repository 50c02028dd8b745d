import { describe, expect, it } from 'vitest';
import { isClusterUrl, parseRedisUrl, RedisUrlError } from './redis-url.js';

describe('parseRedisUrl', () => {
  it('leaves a single Redis URL to ioredis, as it is', () => {
    for (const url of ['redis://127.0.0.1:6379', 'rediss://user:pw@cache.example:6380/2', 'redis://localhost'])
      expect(parseRedisUrl(url)).toEqual({ kind: 'single', url });
    expect(isClusterUrl('redis://127.0.0.1:6379')).toBe(false);
  });

  it('reads a cluster as its seed nodes, in order', () => {
    const url = 'redis+cluster://127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003';
    expect(isClusterUrl(url)).toBe(true);
    expect(parseRedisUrl(url)).toEqual({
      kind: 'cluster',
      tls: false,
      nodes: [
        { host: '127.0.0.1', port: 17001 },
        { host: '127.0.0.1', port: 17002 },
        { host: '127.0.0.1', port: 17003 },
      ],
    });
  });

  it('takes credentials for every node, TLS from rediss+cluster, IPv6 in brackets, 6379 by default, a trailing / or /0', () => {
    expect(parseRedisUrl('rediss+cluster://app:p%40ss%2Cw@[::1]:7000, cache-2/0')).toEqual({
      kind: 'cluster',
      tls: true,
      username: 'app',
      password: 'p@ss,w',
      nodes: [
        { host: '::1', port: 7000 },
        { host: 'cache-2', port: 6379 },
      ],
    });
    expect(parseRedisUrl('redis+cluster://:secret@h:1/')).toMatchObject({ password: 'secret', nodes: [{ host: 'h', port: 1 }] });
    expect(parseRedisUrl('redis+cluster://:secret@h:1/')).not.toHaveProperty('username');
  });

  it('refuses what a cluster cannot honour or that is not a seed list, saying why', () => {
    const refused = (url: string): string => {
      try {
        parseRedisUrl(url);
      } catch (error) {
        expect(error).toBeInstanceOf(RedisUrlError);
        return (error as Error).message;
      }
      throw new Error(`${url} was accepted`);
    };
    expect(refused('redis+cluster://h:1,h:2/3')).toMatch(/database 3 of a cluster/);
    expect(refused('redis+cluster://h:1?timeout=5')).toMatch(/query/);
    expect(refused('redis+cluster://')).toMatch(/without any seed/);
    expect(refused('redis+cluster://h:99999')).toMatch(/invalid port/);
    expect(refused('redis+cluster://h:1:2')).toMatch(/not host:port/);
    expect(refused('redis+cluster://user:hunter2@h:x')).not.toMatch(/hunter2/);
  });
});
