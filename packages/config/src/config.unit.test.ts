import { describe, expect, it } from 'vitest';
import { CommonEnv, ConfigError, loadConfig } from './config.js';

describe('REDIS_URL', () => {
  const load = (url: string) => loadConfig({ REDIS_URL: CommonEnv.REDIS_URL }, { REDIS_URL: url }).REDIS_URL;

  it('names one Redis or a Redis Cluster by its seeds', () => {
    for (const url of ['redis://127.0.0.1:6379', 'rediss://cache:6380', 'redis+cluster://127.0.0.1:17001,127.0.0.1:17002', 'rediss+cluster://h:1'])
      expect(load(url)).toBe(url);
  });

  it('refuses anything else', () => {
    for (const url of ['http://127.0.0.1:6379', '127.0.0.1:6379', 'redis+sentinel://h:1']) expect(() => load(url)).toThrow(ConfigError);
  });
});
