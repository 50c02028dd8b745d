import { describe, expect, it } from 'vitest';
import { KeySpace } from './client.js';
import { declareKeys, hashTagOf } from './slots.js';

describe('hash tags', () => {
  it('follow Redis Cluster’s rule: the text between the first { and the next }, if not empty', () => {
    expect(hashTagOf('cms:{c3}:cons:1')).toBe('c3');
    expect(hashTagOf('cms:{c3}:x:{s1}')).toBe('c3');
    expect(hashTagOf('cms:{}:x')).toBe('cms:{}:x');
    expect(hashTagOf('cms:{c3')).toBe('cms:{c3');
    expect(hashTagOf('plain')).toBe('plain');
  });

  it('are the same relative to any prefix, and a prefix may not hold braces', () => {
    const a = new KeySpace('cms');
    const b = new KeySpace('cms-rebuild-1');
    expect(a.tagged('c3', 'cons', 'x')).toBe('cms:{c3}:cons:x');
    expect(hashTagOf(a.tagged('c3', 'cons', 'x'))).toBe(hashTagOf(b.tagged('c3', 'cons', 'y')));
    expect(() => new KeySpace('a{b}')).toThrow(/must not contain/);
  });
});

describe('declareKeys', () => {
  it('lists each key once, after the script’s own keys, and leaves a channel as it is', () => {
    const { keys, json } = declareKeys(
      [
        ['hset', 'k:{c1}:a', 'f', 'v'],
        ['rpush', 'k:{c1}:b', 'x'],
        ['hincrby', 'k:{c1}:a', 'n', '1'],
        ['publish', 'k:projected', '{}'],
      ],
      2,
    );
    expect(keys).toEqual(['k:{c1}:a', 'k:{c1}:b']);
    expect(JSON.parse(json)).toEqual([
      ['hset', 2, 'f', 'v'],
      ['rpush', 3, 'x'],
      ['hincrby', 2, 'n', '1'],
      ['publish', 'k:projected', '{}'],
    ]);
  });
});
