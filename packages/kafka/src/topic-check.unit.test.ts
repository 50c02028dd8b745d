import { describe, expect, it } from 'vitest';
import { checkTopic, creationConfig, describeFinding, replicationFor, settingsToObserve, type ObservedTopic } from './topic-check.js';
import type { TopicSpec } from './topics.js';

const history: TopicSpec = {
  name: 'consultation.events',
  partitions: 6,
  config: { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' },
};
const commands: TopicSpec = { name: 'consultation.commands', partitions: 6, config: { 'retention.ms': '604800000', 'cleanup.policy': 'delete' } };
const keys: TopicSpec = { name: 'subscription.keys', partitions: 1, config: { 'cleanup.policy': 'compact', 'segment.ms': '3600000' } };

const single = replicationFor(1);
const three = replicationFor(3);

/** The topic as a cluster would report it when it matches the spec on a cluster of `replication`. */
function asCreated(spec: TopicSpec, replication = single, changes: Partial<ObservedTopic> & { config?: Record<string, string | undefined> } = {}): ObservedTopic {
  const { config, ...rest } = changes;
  return {
    name: spec.name,
    partitions: spec.partitions,
    replicationFactor: replication.replicationFactor,
    ...rest,
    config: { ...creationConfig(spec, replication), ...config },
  };
}

describe('replicationFor', () => {
  it('keeps three copies with two in sync from three brokers on, and as many as there are below', () => {
    expect(replicationFor(1)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(replicationFor(2)).toEqual({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(replicationFor(3)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor(5)).toEqual({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(replicationFor(0)).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
  });

  it('creates topics with the cluster-decided min.insync.replicas beside the spec settings', () => {
    expect(creationConfig(history, three)).toEqual({ ...history.config, 'min.insync.replicas': '2' });
    expect(settingsToObserve(history)).toEqual(['min.insync.replicas', 'retention.ms', 'retention.bytes', 'cleanup.policy']);
  });
});

describe('checkTopic', () => {
  it('accepts a topic exactly as it would be created, on one broker and on three', () => {
    for (const spec of [history, commands, keys]) {
      expect(checkTopic(spec, asCreated(spec, single), single)).toEqual([]);
      expect(checkTopic(spec, asCreated(spec, three), three)).toEqual([]);
    }
  });

  it('refuses a history topic with finite retention, naming topic, setting, found and wanted', () => {
    const findings = checkTopic(history, asCreated(history, single, { config: { 'retention.ms': '604800000' } }), single);
    expect(findings).toEqual([
      expect.objectContaining({ topic: 'consultation.events', setting: 'retention.ms', found: '604800000', wanted: '-1', severity: 'refuse' }),
    ]);
    expect(describeFinding(findings[0]!)).toBe(
      'topic consultation.events: retention.ms is 604800000, wanted -1 (this topic keeps its records forever; a finite retention would delete history)',
    );
    expect(checkTopic(history, asCreated(history, single, { config: { 'retention.bytes': '1073741824' } }), single)).toEqual([
      expect.objectContaining({ setting: 'retention.bytes', severity: 'refuse' }),
    ]);
  });

  it('refuses a shorter retention than declared; a longer or infinite one is only a warning', () => {
    expect(checkTopic(commands, asCreated(commands, single, { config: { 'retention.ms': '3600000' } }), single)).toEqual([
      expect.objectContaining({ setting: 'retention.ms', found: '3600000', wanted: '604800000', severity: 'refuse' }),
    ]);
    for (const longer of ['-1', String(30 * 86_400_000)])
      expect(checkTopic(commands, asCreated(commands, single, { config: { 'retention.ms': longer } }), single)).toEqual([
        expect.objectContaining({ setting: 'retention.ms', found: longer, severity: 'warn' }),
      ]);
  });

  it('refuses another cleanup policy, whichever way round, but not the same policies in another order', () => {
    expect(checkTopic(history, asCreated(history, single, { config: { 'cleanup.policy': 'compact' } }), single)).toEqual([
      expect.objectContaining({ setting: 'cleanup.policy', found: 'compact', wanted: 'delete', severity: 'refuse' }),
    ]);
    expect(checkTopic(keys, asCreated(keys, single, { config: { 'cleanup.policy': 'compact,delete' } }), single)).toEqual([
      expect.objectContaining({ setting: 'cleanup.policy', severity: 'refuse' }),
    ]);
    const both: TopicSpec = { ...keys, config: { 'cleanup.policy': 'compact,delete' } };
    expect(checkTopic(both, asCreated(both, single, { config: { 'cleanup.policy': 'delete, compact' } }), single)).toEqual([]);
  });

  it('refuses fewer and more partitions than declared', () => {
    for (const partitions of [3, 12]) {
      const [finding, ...rest] = checkTopic(history, asCreated(history, single, { partitions }), single);
      expect(rest).toEqual([]);
      expect(finding).toMatchObject({ setting: 'partitions', found: String(partitions), wanted: '6', severity: 'refuse' });
    }
  });

  it('on three brokers, refuses a replication factor below 3 and min.insync.replicas of 1', () => {
    expect(checkTopic(history, asCreated(history, single), three)).toEqual([
      expect.objectContaining({ setting: 'replication factor', found: '1', wanted: '3 or more', severity: 'refuse' }),
      expect.objectContaining({ setting: 'min.insync.replicas', found: '1', wanted: '2 or more', severity: 'refuse' }),
    ]);
    expect(checkTopic(history, asCreated(history, three, { config: { 'min.insync.replicas': '1' } }), three)).toEqual([
      expect.objectContaining({ topic: 'consultation.events', setting: 'min.insync.replicas', found: '1', wanted: '2 or more' }),
    ]);
  });

  it('accepts more copies or more replicas in sync, but not more in sync than there are copies', () => {
    expect(checkTopic(history, asCreated(history, three, { replicationFactor: 5, config: { 'min.insync.replicas': '3' } }), three)).toEqual([]);
    expect(checkTopic(history, asCreated(history, three, { config: { 'min.insync.replicas': '4' } }), three)).toEqual([
      expect.objectContaining({ setting: 'min.insync.replicas', found: '4', wanted: 'at most the replication factor (3)', severity: 'refuse' }),
    ]);
  });

  it('refuses settings the broker did not report, and warns about other declared settings that differ', () => {
    const unreported = asCreated(history, single, { config: { 'retention.ms': undefined, 'min.insync.replicas': undefined } });
    expect(checkTopic(history, unreported, single).map((f) => [f.setting, f.found, f.severity])).toEqual([
      ['min.insync.replicas', '(not reported)', 'refuse'],
      ['retention.ms', '(not reported)', 'refuse'],
    ]);
    expect(checkTopic(keys, asCreated(keys, single, { config: { 'segment.ms': '604800000' } }), single)).toEqual([
      expect.objectContaining({ setting: 'segment.ms', found: '604800000', wanted: '3600000', severity: 'warn' }),
    ]);
  });

  it('lets the cluster, not the spec, decide min.insync.replicas', () => {
    const declares: TopicSpec = { ...commands, config: { ...commands.config, 'min.insync.replicas': '1' } };
    expect(creationConfig(declares, three)['min.insync.replicas']).toBe('2');
    expect(checkTopic(declares, asCreated(declares, three), three)).toEqual([]);
  });
});
