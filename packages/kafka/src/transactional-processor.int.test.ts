import { kafkajsOf } from './kafkajs-client.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsumedRecord } from './records.js';
import { consumeAll, freshTopic, testKafka, testLogger, uniqueName } from '../../../tests/support/kafka.js';
import { BatchingProducer } from './batching-producer.js';
import { readToEnd } from './partition-reader.js';
import { TransactionalProcessor } from './transactional-processor.js';

describe('TransactionalProcessor', () => {
  const kafka = testKafka();
  const running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });

  async function produce(topic: string, values: string[]): Promise<void> {
    const producer = new BatchingProducer(kafka, testLogger);
    await producer.connect();
    await producer.send(topic, values.map((value) => ({ key: value, value })));
    await producer.close();
  }

  function echo(groupId: string, input: string, output: string, extra: Partial<ConstructorParameters<typeof TransactionalProcessor>[0]> = {}) {
    const processor = new TransactionalProcessor({
      kafka,
      logger: testLogger,
      groupId,
      inputTopic: input,
      transactionalIdPrefix: groupId,
      process: (_partition: number, messages: ConsumedRecord[]) => [
        { topic: output, messages: messages.map((m) => ({ key: m.key, value: m.value })) },
      ],
      ...extra,
    });
    running.push(processor);
    return processor;
  }

  it('never outputs a message twice across a restart, nor loses one', async () => {
    const input = await freshTopic(kafka, 3);
    const output = await freshTopic(kafka, 3);
    const groupId = uniqueName('tp');
    await produce(input, Array.from({ length: 300 }, (_, i) => `a${i}`));
    const first = echo(groupId, input, output);
    await first.start();
    await consumeAll(kafka, output, 300);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    await produce(input, Array.from({ length: 200 }, (_, i) => `b${i}`));
    const second = echo(groupId, input, output);
    await second.start();
    const out = await consumeAll(kafka, output, 500);
    const values = out.map((m) => m.value!.toString());
    expect(values).toHaveLength(500);
    expect(new Set(values).size).toBe(500);
  });

  it('commits a chunk whose outputs exceed what the broker takes in one request', async () => {
    const input = await freshTopic(kafka, 1);
    const output = await freshTopic(kafka, 1);
    // 3,000 × 1 KiB outputs in one transaction: three times the broker's default max.message.bytes.
    await produce(input, Array.from({ length: 3_000 }, (_, i) => `big${i}`));
    const processor = echo(uniqueName('big'), input, output, {
      maxMessagesPerTransaction: 3_000,
      process: (_p: number, messages: ConsumedRecord[]) => [
        { topic: output, messages: messages.map((m) => ({ key: m.key, value: `${m.value!.toString()}:${'x'.repeat(1_024)}` })) },
      ],
    });
    await processor.start();
    const out = await consumeAll(kafka, output, 3_000, 60_000);
    expect(out).toHaveLength(3_000);
  }, 90_000);

  it('aborts a failed transaction and commits the retry once', async () => {
    const input = await freshTopic(kafka, 1);
    const output = await freshTopic(kafka, 1);
    await produce(input, Array.from({ length: 50 }, (_, i) => `m${i}`));
    let failures = 0;
    const loads: number[] = [];
    const processor = new TransactionalProcessor({
      kafka,
      logger: testLogger,
      groupId: uniqueName('tp'),
      inputTopic: input,
      transactionalIdPrefix: uniqueName('tp'),
      // The first attempt carries a record the broker refuses (too large): the transaction aborts and must
      // leave nothing behind; the retry commits everything once.
      process: (_p, messages) => {
        const poison = failures++ === 0 ? [{ key: 'poison', value: Buffer.alloc(2 * 1024 * 1024) }] : [];
        return [{ topic: output, messages: [...messages.map((m) => ({ key: m.key, value: m.value })), ...poison] }];
      },
      load: async (partitions) => void loads.push(...partitions),
    });
    running.push(processor);
    await processor.start();
    const out = await consumeAll(kafka, output, 50, 60_000);
    // Loaded on assignment, and again after the abort before anything more was decided.
    expect(loads.length).toBeGreaterThanOrEqual(2);
    expect(out.map((m) => m.value!.toString()).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
  }, 120_000);

  it('never counts as loaded a partition whose take-over the group superseded during a slow load', async () => {
    const input = await freshTopic(kafka, 4);
    const output = await freshTopic(kafka, 4);
    const groupId = uniqueName('tp');
    const loads: { at: number; partitions: number[] }[] = [];
    let first = true;
    const a = echo(groupId, input, output, {
      load: async (partitions) => {
        loads.push({ at: Date.now(), partitions: [...partitions].sort() });
        // The first take-over reads a long history: the group rebalances meanwhile.
        if (first) {
          first = false;
          await new Promise((resolve) => setTimeout(resolve, 6_000));
        }
      },
    });
    await a.start();
    const b = echo(groupId, input, output);
    await b.start();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await b.stop();
    running.splice(running.indexOf(b), 1);
    const bStopped = Date.now();
    // Every partition is a's again: those b owned meanwhile must be read again before a decides on them.
    await produce(input, Array.from({ length: 40 }, (_, i) => `m${i}`));
    const out = await consumeAll(kafka, output, 40, 60_000);
    expect(new Set(out.map((m) => m.value!.toString())).size).toBe(40);
    const afterwards = new Set(loads.filter((l) => l.at >= bStopped).flatMap((l) => l.partitions));
    const keptThrough = loads.filter((l) => l.at < bStopped).at(-1)!.partitions;
    const fromB = [0, 1, 2, 3].filter((p) => !keptThrough.includes(p));
    expect(fromB.length).toBeGreaterThan(0);
    expect([...afterwards].sort()).toEqual(expect.arrayContaining(fromB));
  }, 120_000);

  it('keeps its partitions while one batch takes longer than the session timeout (heartbeats between chunks)', async () => {
    const input = await freshTopic(kafka, 1);
    const output = await freshTopic(kafka, 1);
    await produce(input, Array.from({ length: 80 }, (_, i) => `h${i}`));
    let joins = 0;
    const processor = echo(uniqueName('hb'), input, output, {
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      maxMessagesPerTransaction: 10,
      load: async () => void joins++,
      process: async (_p: number, messages: ConsumedRecord[]) => {
        await new Promise((r) => setTimeout(r, 1_000)); // 8 chunks × 1 s > the 6 s session timeout
        return [{ topic: output, messages: messages.map((m) => ({ key: m.key, value: m.value })) }];
      },
    });
    await processor.start();
    const out = await consumeAll(kafka, output, 80, 40_000);
    expect(out).toHaveLength(80);
    expect(joins).toBe(1);
  }, 90_000);

  it('keeps its partitions while a reload after an abort takes longer than the session timeout', async () => {
    const input = await freshTopic(kafka, 1);
    const output = await freshTopic(kafka, 1);
    await produce(input, Array.from({ length: 20 }, (_, i) => `r${i}`));
    let loads = 0;
    let failures = 0;
    const groupId = uniqueName('reload');
    const admin = kafkajsOf(kafka).admin();
    await admin.connect();
    running.push({ stop: () => admin.disconnect() });
    const members = async (): Promise<string[]> => (await admin.describeGroups([groupId])).groups[0]!.members.map((m) => m.memberId);
    let memberBefore: string[] = [];
    const processor = echo(groupId, input, output, {
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      // The reload after the abort reads a long history: 8 s, past the 6 s session. Without heartbeats the
      // group evicts the writer meanwhile and it must join again as a new member.
      load: async () => {
        loads++;
        if (loads === 2) {
          memberBefore = await members();
          await new Promise((r) => setTimeout(r, 8_000));
        }
      },
      process: (_p: number, messages: ConsumedRecord[]) => {
        const poison = failures++ === 0 ? [{ key: 'poison', value: Buffer.alloc(2 * 1024 * 1024) }] : [];
        return [{ topic: output, messages: [...messages.map((m) => ({ key: m.key, value: m.value })), ...poison] }];
      },
    });
    await processor.start();
    const out = await consumeAll(kafka, output, 20, 40_000);
    expect(out).toHaveLength(20);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(loads).toBe(2);
    // The same member throughout: never evicted, so no take-over.
    expect(memberBefore).toHaveLength(1);
    expect(await members()).toEqual(memberBefore);
  }, 90_000);

  it('never processes a partition whose state failed to load, until a load succeeds', async () => {
    const input = await freshTopic(kafka, 1);
    const output = await freshTopic(kafka, 1);
    await produce(input, Array.from({ length: 40 }, (_, i) => `l${i}`));
    let loads = 0;
    let loaded = false;
    let decidedUnloaded = 0;
    let failures = 0;
    const processor = echo(uniqueName('load'), input, output, {
      maxMessagesPerTransaction: 10,
      // The first load works; the first transaction aborts; the reload after it fails twice, then works.
      load: async () => {
        loads++;
        loaded = false;
        if (loads === 2 || loads === 3) throw new Error(`load ${loads} failed`);
        loaded = true;
      },
      process: (_p: number, messages: ConsumedRecord[]) => {
        if (!loaded) decidedUnloaded++;
        const poison = failures++ === 0 ? [{ key: 'poison', value: Buffer.alloc(2 * 1024 * 1024) }] : [];
        return [{ topic: output, messages: [...messages.map((m) => ({ key: m.key, value: m.value })), ...poison] }];
      },
    });
    await processor.start();
    const out = await consumeAll(kafka, output, 40, 60_000);
    expect(out).toHaveLength(40);
    expect(loads).toBeGreaterThanOrEqual(4);
    expect(decidedUnloaded).toBe(0);
  }, 90_000);

  it('reloads partitions whose transactions aborted together in one read, not one after another', async () => {
    const input = await freshTopic(kafka, 3);
    const output = await freshTopic(kafka, 3);
    const producer = new BatchingProducer(kafka, testLogger);
    await producer.connect();
    await producer.send(input, [0, 1, 2].flatMap((partition) => Array.from({ length: 5 }, (_, i) => ({ partition, key: `p${partition}-${i}`, value: `p${partition}-${i}` }))));
    await producer.close();
    const loads: number[][] = [];
    const aborted = new Set<number>();
    const processor = echo(uniqueName('merge'), input, output, {
      // A reload takes a while, as reading a partition's history does: the other partitions' retries queue up.
      load: async (partitions) => {
        loads.push(partitions);
        if (loads.length > 1) await new Promise((resolve) => setTimeout(resolve, 1_500));
      },
      // Every partition's first transaction aborts, as all of them do when the broker goes away.
      process: (partition: number, messages: ConsumedRecord[]) => {
        if (!aborted.has(partition)) {
          aborted.add(partition);
          throw new Error(`partition ${partition}: the broker went away`);
        }
        return [{ topic: output, messages: messages.map((m) => ({ key: m.key, value: m.value })) }];
      },
    });
    await processor.start();
    const out = await consumeAll(kafka, output, 15, 60_000);
    expect(out).toHaveLength(15);
    const [takeOver, ...reloads] = loads;
    expect(takeOver).toEqual([0, 1, 2]);
    expect(reloads.flat().sort()).toEqual([0, 1, 2]);
    // The first reload may start before the others' aborts; everything aborted meanwhile is read together.
    expect(reloads.length, JSON.stringify(loads)).toBeLessThanOrEqual(2);
  }, 90_000);

  it('ends a transaction left open under its transactional id before reloading after an abort', async () => {
    const input = await freshTopic(kafka, 1);
    const output = await freshTopic(kafka, 1);
    const prefix = uniqueName('open');
    await produce(input, ['before']);
    // A transaction left open under the partition's transactional id, as the writer's own is when the broker
    // goes away between its produce and its commit: the abort cannot reach it, but a commit already sent may
    // still land. If it lands while the writer reloads, the reload has read past it (read_committed stops at
    // the open transaction) and the state misses events the history then holds. The writer must end the
    // transaction (initialising its producer again, as a take-over does) before it reads.
    const intruder = kafkajsOf(kafka).producer({ transactionalId: `${prefix}-p0`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
    let open: Awaited<ReturnType<typeof intruder.transaction>> | undefined;
    let lateCommit: 'refused' | 'committed' | undefined;
    const processor = echo(uniqueName('open'), input, output, {
      transactionalIdPrefix: prefix,
      load: async (partitions) => {
        await readToEnd(kafka, { topic: output, partitions, logger: testLogger, onBatch: () => undefined });
        // The late commit lands just after the reload has read the history.
        if (open && !lateCommit) lateCommit = await open.commit().then(() => 'committed' as const, () => 'refused' as const);
      },
      process: async (_p: number, messages: ConsumedRecord[]) => {
        if (!open && messages.some((m) => m.value!.toString() === 'trap')) {
          // Fences the processor's producer, so this chunk aborts and the partition is reloaded.
          await intruder.connect();
          open = await intruder.transaction();
          await open.send({ topic: output, messages: [{ key: 'open', value: 'left open' }] });
        }
        return [{ topic: output, messages: messages.map((m) => ({ key: m.key, value: m.value })) }];
      },
    });
    running.push({ stop: () => intruder.disconnect() });
    await processor.start();
    await consumeAll(kafka, output, 1, 30_000);
    await produce(input, ['trap']);
    const out = await consumeAll(kafka, output, 2, 30_000);
    expect(lateCommit).toBe('refused');
    expect(out.map((m) => m.value!.toString()).sort()).toEqual(['before', 'trap']);
  }, 90_000);

  it('fences a writer evicted while stalled before the new owner loads state', async () => {
    const input = await freshTopic(kafka, 1);
    const output = await freshTopic(kafka, 1);
    const groupId = uniqueName('fence');
    await produce(input, Array.from({ length: 10 }, (_, i) => `f${i}`));
    let newOwnerLoaded!: () => void;
    const loadedByNewOwner = new Promise<void>((resolve) => (newOwnerLoaded = resolve));
    let staleStarted!: () => void;
    const staleHasBatch = new Promise<void>((resolve) => (staleStarted = resolve));
    // The stale writer decides, then stalls (no heartbeats) until its partition has a new owner that has
    // loaded its state; only then does it try to commit. That commit must fail, or the new owner's state
    // would miss it and it would decide the same commands again.
    const stale = echo(groupId, input, output, {
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      process: async (_p: number, messages: ConsumedRecord[]) => {
        staleStarted();
        await loadedByNewOwner;
        return [{ topic: output, messages: messages.map((m) => ({ key: m.key, value: m.value })) }];
      },
    });
    await stale.start();
    await staleHasBatch;
    // The new owner's state is what the output topic holds; it decides only what is not there yet.
    const seen = new Set<string>();
    const owner = echo(groupId, input, output, {
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      load: async () => {
        await readToEnd(kafka, { topic: output, logger: testLogger, onBatch: (_p, ms) => ms.forEach((m) => seen.add(m.value!.toString())) });
        newOwnerLoaded();
        // Give the stale writer time to try its commit before this owner decides anything.
        await new Promise((r) => setTimeout(r, 2_000));
      },
      process: (_p: number, messages: ConsumedRecord[]) => [
        { topic: output, messages: messages.filter((m) => !seen.has(m.value!.toString())).map((m) => ({ key: m.key, value: m.value })) },
      ],
    });
    await owner.start();
    await consumeAll(kafka, output, 10, 60_000);
    // Wait past any late commit, then count: each input exactly once.
    await new Promise((r) => setTimeout(r, 3_000));
    const out = await consumeAll(kafka, output, 10, 10_000);
    expect(out.map((m) => m.value!.toString()).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `f${i}`).sort());
  }, 120_000);

  it('replaces a consumer that hangs (no fetch, batch or heartbeat) and still outputs each input once', async () => {
    const input = await freshTopic(kafka, 1);
    const output = await freshTopic(kafka, 1);
    await produce(input, Array.from({ length: 20 }, (_, i) => `h${i}`));
    let calls = 0;
    // The first chunk never returns, as a kafkajs consumer stuck after a broker restart never does.
    const processor = echo(uniqueName('hung'), input, output, {
      hungAfterMs: 3_000,
      process: async (_p: number, messages: ConsumedRecord[]) => {
        calls += 1;
        if (calls === 1) await new Promise(() => undefined);
        return [{ topic: output, messages: messages.map((m) => ({ key: m.key, value: m.value })) }];
      },
    });
    await processor.start();
    const out = await consumeAll(kafka, output, 20, 60_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const again = await consumeAll(kafka, output, 20, 10_000);
    expect(calls).toBeGreaterThan(1);
    expect(out).toHaveLength(20);
    expect(again.map((m) => m.value!.toString()).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `h${i}`).sort());
  }, 90_000);

  it('reads a transactional topic to its end, past commit markers and aborted transactions', async () => {
    const topic = await freshTopic(kafka, 2);
    const producer = kafkajsOf(kafka).producer({ transactionalId: uniqueName('txn'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let t = 0; t < 3; t++) {
      const txn = await producer.transaction();
      await txn.send({ topic, messages: [{ key: 'a', value: `c${t}` }, { key: 'b', value: `c${t}` }] });
      await txn.commit();
    }
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'a', value: 'aborted' }] });
    await aborted.abort();
    await producer.disconnect();
    const seen: string[] = [];
    const started = Date.now();
    const result = await readToEnd(kafka, { topic, logger: testLogger, onBatch: (_p, ms) => void seen.push(...ms.map((m) => m.value!.toString())) });
    expect(seen.sort()).toEqual(['c0', 'c0', 'c1', 'c1', 'c2', 'c2']);
    expect(result.messages).toBe(6);
    expect(Date.now() - started).toBeLessThan(20_000);
    const empty = await freshTopic(kafka, 2);
    expect((await readToEnd(kafka, { topic: empty, logger: testLogger, onBatch: () => undefined })).messages).toBe(0);
  });
});
