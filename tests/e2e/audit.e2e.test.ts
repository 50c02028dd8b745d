import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEYS } from '@consult/admin';
import { chainHash, type ConsultationEvent } from '@consult/contracts';
import {
  compareKeySpaces,
  consultationHistory,
  exportEvents,
  rebuildPrefix,
  rebuildReadModels,
  runReplayCommand,
  stateAsOf,
  verifyChains,
  verifyTopics,
  type ReplayCommand,
} from '@consult/replay';
import { produceEach } from '@consult/kafka';
import { consultationTagOf } from '@consult/read-models';
import { KeySpace, scanKeys } from '@consult/redis';
import { consultationInput, futureIso, Stack } from '../support/stack.js';

const run = promisify(execFile);

interface HistoryBody {
  items: ConsultationEvent[];
  next: string | null;
  code?: string;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('audit replay: history, state as of a moment, rebuild, verification, export', () => {
  let stack: Stack;
  let dir: string;
  /** The consultation the asOf test builds up; later tests tamper with its chain. */
  let main: { id: string };
  const others: string[] = [];

  beforeAll(async () => {
    stack = await new Stack().start();
    dir = await mkdtemp(join(tmpdir(), 'audit-'));
  });
  afterAll(async () => {
    // Rebuilt key spaces sit beside the stack's (`<prefix>-rebuild-…`): remove them even after a failure.
    if (stack) for (const prefix of await rebuiltPrefixes()) await new KeySpace(prefix).clear(stack.redis);
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const rebuiltPrefixes = async (): Promise<Set<string>> => {
    const found = new Set<string>();
    await scanKeys(stack.redis, `${stack.keyPrefix}-rebuild-*`, (keys) => {
      for (const key of keys) found.add(key.slice(0, key.indexOf(':', stack.keyPrefix.length + 1)));
    });
    return found;
  };
  /** A consultation's key relative to the prefix: under its partition's hash tag. */
  const cons = (id: string): string => `{${consultationTagOf(id)}}:cons:${id}`;
  const deps = (out: string[] = []) => ({
    kafka: stack.kafka,
    redis: stack.redis,
    logger: stack.logger,
    topics: stack.topics,
    keyPrefix: stack.keyPrefix,
    out: (line: string) => void out.push(line),
  });
  const cli = async (command: ReplayCommand): Promise<{ code: number; out: string[] }> => {
    const out: string[] = [];
    const code = await runReplayCommand(deps(out), command);
    return { code, out };
  };
  const history = (id: string, key: keyof typeof DEV_KEYS, query = '') =>
    fetch(`${stack.baseUrl}/v1/consultations/${id}/history${query}`, {
      headers: { authorization: `Bearer ${DEV_KEYS[key].secret}` },
    }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: (await r.json()) as HistoryBody }));

  it('answers asOf each recorded moment exactly as the live API answered then', async () => {
    const secretariat = stack.client('secretariat');
    const moments: { at: string; body: unknown }[] = [];
    /** What the live API says now, and the moment just after it said it. */
    const record = async (id: string): Promise<void> => {
      const live = await secretariat.getConsultation(id);
      expect(live.status).toBe(200);
      moments.push({ at: new Date().toISOString(), body: live.body });
      await sleep(3);
    };
    const beforeOpening = new Date().toISOString();
    await sleep(3);
    const created = await secretariat.createConsultation(consultationInput({ reference: 'IO/AUDIT' }));
    expect(created.status).toBe(201);
    main = { id: created.body.id };
    await record(main.id);
    const khm = await stack.client('KHM').postComment(main.id, { body: 'Cambodia supports rule 12.', language: 'en' }, 'khm-1');
    expect(khm.status).toBe(201);
    await record(main.id);
    expect((await stack.client('THA').postComment(main.id, { body: 'Thailand concurs.', language: 'en' }, 'tha-1')).status).toBe(201);
    await record(main.id);
    expect((await stack.client('KHM').amendComment(main.id, khm.body.commentId, { body: 'Cambodia supports rules 12-13.', language: 'ru' })).status).toBe(200);
    await record(main.id);
    expect((await stack.client('KHM').withdrawComment(main.id, khm.body.commentId)).status).toBe(200);
    await record(main.id);
    const later = futureIso(60 * 86_400_000);
    expect((await secretariat.extendDeadline(main.id, { deadline: later, reason: 'Requested by KAZ' })).status).toBe(201);
    await record(main.id);
    // A rejected command leaves the history alone.
    expect((await secretariat.extendDeadline(main.id, { deadline: futureIso(60_000), reason: 'sooner' })).status).toBe(422);
    expect((await stack.client('KAZ').postComment(main.id, { body: 'Kazakhstan has no objection.', language: 'kk' }, 'kaz-1')).status).toBe(201);
    await record(main.id);
    // Every step changed what the API showed, so every comparison below tests another state.
    expect(new Set(moments.map((m) => (m.body as { version: number }).version)).size).toBe(moments.length);

    const fromKafka = await consultationHistory({ kafka: stack.kafka, logger: stack.logger, topic: stack.topics.consultationEvents, consultation: main.id });
    expect(fromKafka.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const { at, body } of moments) {
      for (const reader of ['auditor', 'secretariat'] as const) {
        const past = await stack.client(reader).getConsultation(main.id, at);
        expect(past.status, `${reader} asOf ${at}`).toBe(200);
        expect(past.body).toEqual({ ...(body as object), asOf: at });
      }
      // The CLI replays Kafka itself and agrees.
      expect(stateAsOf(fromKafka, at)).toEqual({ ...(body as object), asOf: at });
    }
    // The same moment written with another offset is the same moment.
    const last = moments[moments.length - 1]!;
    const plus7 = new Date(Date.parse(last.at) + 7 * 3_600_000).toISOString().replace('Z', '+07:00');
    expect((await stack.client('auditor').getConsultation(main.id, plus7)).body).toMatchObject({ version: 7 });

    const before = await stack.client('auditor').getConsultation(main.id, beforeOpening);
    expect(before.status).toBe(404);
    expect(before.problem).toMatchObject({ code: 'consultation-not-found', status: 404 });
    for (const other of ['KHM', 'committee'] as const) {
      const denied = await stack.client(other).getConsultation(main.id, last.at);
      expect(denied.status).toBe(403);
      expect(denied.problem).toMatchObject({ code: 'forbidden', type: '/problems/forbidden' });
      expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const cliState = await cli({ kind: 'history', consultation: main.id, asOf: moments[2]!.at });
    expect(cliState.code).toBe(0);
    expect(JSON.parse(cliState.out.join('\n'))).toEqual({ ...(moments[2]!.body as object), asOf: moments[2]!.at });
    const cliHistory = await cli({ kind: 'history', consultation: main.id });
    expect(cliHistory.out.slice(0, -1).map((l) => l.split(' ', 1)[0])).toEqual(['#1', '#2', '#3', '#4', '#5', '#6', '#7']);
  });

  it('serves the history in sequence order, as produced, paged, to auditors and the secretariat only', async () => {
    const all = await history(main.id, 'auditor');
    expect(all.status).toBe(200);
    expect(all.body.next).toBeNull();
    expect(all.body.items.map((e) => [e.sequence, e.type])).toEqual([
      [1, 'consultation.opened'],
      [2, 'consultation.comment-submitted'],
      [3, 'consultation.comment-submitted'],
      [4, 'consultation.comment-amended'],
      [5, 'consultation.comment-withdrawn'],
      [6, 'consultation.deadline-extended'],
      [7, 'consultation.comment-submitted'],
    ]);
    // Exactly the events in Kafka, so their chain verifies from the API alone.
    const fromKafka = await consultationHistory({ kafka: stack.kafka, logger: stack.logger, topic: stack.topics.consultationEvents, consultation: main.id });
    expect(all.body.items).toEqual(JSON.parse(JSON.stringify(fromKafka)));
    const records = all.body.items.map((e, i) => ({ topic: 'api', partition: 0, offset: String(i), value: JSON.stringify(e) }));
    expect(verifyChains(records)).toMatchObject({ events: 7, streams: 1, broken: [] });

    const first = await history(main.id, 'secretariat', '?limit=3');
    expect(first.body.items.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(first.body.next).toBe('3');
    const second = await history(main.id, 'secretariat', `?after=${first.body.next}&limit=3`);
    expect(second.body.items.map((e) => e.sequence)).toEqual([4, 5, 6]);
    const third = await history(main.id, 'secretariat', `?after=${second.body.next}&limit=3`);
    expect(third.body).toMatchObject({ next: null });
    expect(third.body.items.map((e) => e.sequence)).toEqual([7]);

    for (const other of ['KHM', 'committee'] as const) {
      const denied = await history(main.id, other);
      expect(denied.status).toBe(403);
      expect(denied.type).toMatch(/^application\/problem\+json/);
      expect(denied.body.code).toBe('forbidden');
    }
    expect((await history(randomUUID(), 'auditor')).status).toBe(404);
    expect((await history(main.id, 'auditor', '?limit=1001')).status).toBe(400);
    expect((await history(main.id, 'auditor', '?limit=0')).status).toBe(400);
  });

  it('serves the same history after a Redis flush: the projector rebuilds it from Kafka', async () => {
    const before = await history(main.id, 'auditor');
    await stack.stopProjector();
    expect(await stack.flushRedis()).toBeGreaterThan(0);
    expect(await stack.redis.exists(`${stack.keyPrefix}:${cons(main.id)}:history`)).toBe(0);
    await stack.startProjector();
    await stack.until(async () => (await stack.redis.llen(`${stack.keyPrefix}:${cons(main.id)}:history`)) === 7, 30_000, 'history rebuilt');
    await stack.until(async () => (await history(main.id, 'auditor')).status === 200, 30_000, 'auditor key projected again');
    expect((await history(main.id, 'auditor')).body).toEqual(before.body);
  });

  it('rebuilds every read model into a fresh key space equal to the live one, and reports an altered key', async () => {
    // More than one stream, a closed-by-nobody consultation, comments in another visibility.
    for (const [i, visibility] of (['own', 'addressees'] as const).entries()) {
      const c = await stack.client('secretariat').createConsultation(consultationInput({ reference: `IO/R${i}`, commentVisibility: visibility }));
      others.push(c.body.id);
      await stack.client('THA').postComment(c.body.id, { body: `tha ${i}`, language: 'en' }, `t${i}`);
    }
    // The live projector applies asynchronously to nothing we wait on (identity, outcomes): retry until equal.
    let rebuilt = '';
    let compared: Awaited<ReturnType<typeof compareKeySpaces>> | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      rebuilt = rebuildPrefix(stack.keyPrefix);
      const result = await rebuildReadModels({ kafka: stack.kafka, redis: stack.redis, logger: stack.logger, topics: stack.topics, keyPrefix: rebuilt });
      expect(result.events).toBeGreaterThan(0);
      compared = await compareKeySpaces(stack.redis, stack.keyPrefix, rebuilt);
      if (compared.differences.length === 0) break;
      await new KeySpace(rebuilt).clear(stack.redis);
      await sleep(250);
    }
    expect(compared!.differences).toEqual([]);
    // The comparison covered every kind of read model, not an empty set.
    const kinds = await Promise.all(
      [cons(main.id), `${cons(main.id)}:history`, `{${consultationTagOf(main.id)}}:cons:index:open`, `${cons(main.id)}:active`].map((k) =>
        stack.redis.type(`${rebuilt}:${k}`),
      ),
    );
    expect(kinds).toEqual(['hash', 'list', 'zset', 'hash']);
    expect(compared!.keys).toBeGreaterThan(20);
    // Written as MULTI/EXEC instead of one script per chunk, the rebuild is the same.
    const viaMulti = rebuildPrefix(stack.keyPrefix);
    await rebuildReadModels({ kafka: stack.kafka, redis: stack.redis, logger: stack.logger, topics: stack.topics, keyPrefix: viaMulti, writer: 'multi', chunk: 7 });
    expect((await compareKeySpaces(stack.redis, rebuilt, viaMulti)).differences).toEqual([]);
    await new KeySpace(viaMulti).clear(stack.redis);

    // Now alter the live key space three ways: a field, a list item, a whole key.
    const live = (k: string) => `${stack.keyPrefix}:${k}`;
    const savedStatus = await stack.redis.hget(live(cons(main.id)), 'deadline');
    const savedFirst = await stack.redis.lindex(live(`${cons(main.id)}:history`), 1);
    await stack.redis.hset(live(cons(main.id)), 'deadline', '2020-01-01T00:00:00Z');
    await stack.redis.lset(live(`${cons(main.id)}:history`), 1, savedFirst!.replace('Cambodia', 'Kampuchea'));
    await stack.redis.del(live(`${cons(others[0]!)}:active`));
    try {
      const altered = await compareKeySpaces(stack.redis, stack.keyPrefix, rebuilt);
      expect(altered.differences).toEqual([
        { key: cons(main.id), kind: 'value', detail: expect.stringContaining('field deadline: live 2020-01-01T00:00:00Z') },
        { key: `${cons(main.id)}:history`, kind: 'value', detail: expect.stringContaining('first difference at index 1') },
        { key: `${cons(others[0]!)}:active`, kind: 'missing-in-live', detail: 'rebuilt has a hash' },
      ].sort((a, b) => a.key.localeCompare(b.key)));
      // The CLI rebuilds on its own, prints each difference and fails.
      const failed = await cli({ kind: 'rebuild' });
      expect(failed.code).toBe(1);
      expect(failed.out.filter((l) => l.startsWith('DIFF '))).toHaveLength(3);
      expect(failed.out.at(-1)).toMatch(/events\/s\); compared \d+ keys with .*: 3 differences$/);
    } finally {
      await stack.redis.hset(live(cons(main.id)), 'deadline', savedStatus!);
      await stack.redis.lset(live(`${cons(main.id)}:history`), 1, savedFirst!);
      await stack.redis.hset(live(`${cons(others[0]!)}:active`), 'THA', '1');
      await new KeySpace(rebuilt).clear(stack.redis);
    }
    const restored = await cli({ kind: 'rebuild' });
    expect(restored.out.at(-1)).toMatch(/: 0 differences$/);
    expect(restored.code).toBe(0);
    // Neither the CLI nor this test leaves a rebuilt key space behind.
    expect(await rebuiltPrefixes()).toEqual(new Set());
  });

  it('exports NDJSON that the documented outside procedure verifies, and that catches an altered line', async () => {
    const file = join(dir, 'events.ndjson');
    const exported = await cli({ kind: 'export', file });
    expect(exported.code).toBe(0);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(7 + 2 * 2);
    const one = join(dir, 'one.ndjson');
    const single = await exportEvents({ kafka: stack.kafka, logger: stack.logger, topic: stack.topics.consultationEvents, file: one, consultation: main.id });
    expect(single).toMatchObject({ events: 7, streams: 1 });

    // The scripts are taken from the documentation itself.
    const doc = await readFile(new URL('../../docs/audit-export.md', import.meta.url), 'utf8');
    const script = (name: string) => {
      const match = new RegExp('```\\w+ file=' + name.replace('.', '\\.') + '\\n([\\s\\S]*?)```').exec(doc);
      expect(match, `docs/audit-export.md holds ${name}`).not.toBeNull();
      return match![1]!;
    };
    await writeFile(join(dir, 'verify-export.mjs'), script('verify-export.mjs'));
    await writeFile(join(dir, 'verify_export.py'), script('verify_export.py'));
    const python = await run('python3', ['--version']).then(() => true, () => false);
    const verifiers: [string, string][] = [['node', join(dir, 'verify-export.mjs')]];
    if (python) verifiers.push(['python3', join(dir, 'verify_export.py')]);
    else console.warn('python3 not found: only the Node.js procedure is tested');

    const tampered = join(dir, 'tampered.ndjson');
    const index = lines.findIndex((l) => l.includes('Thailand concurs.'));
    await writeFile(tampered, lines.map((l, i) => (i === index ? l.replace('Thailand concurs.', 'Thailand objects.') : l)).join('\n') + '\n');
    const reordered = join(dir, 'reordered.ndjson');
    const mainLines = (await readFile(one, 'utf8')).trimEnd().split('\n');
    await writeFile(reordered, [mainLines[0], mainLines[2], mainLines[1], ...mainLines.slice(3)].join('\n') + '\n');

    for (const [command, path] of verifiers) {
      const ok = await run(command, [path, file, '--heads']);
      expect(ok.stdout).toMatch(/^11 events, 3 consultations, 0 broken$/m);
      const head = ok.stdout.split('\n').find((l) => l.startsWith(main.id));
      expect(head).toBe(`${main.id} 7 ${JSON.parse(mainLines[6]!).hash}`);
      for (const [bad, line] of [[tampered, index + 1], [reordered, 2]] as const) {
        const failed = await run(command, [path, bad]).then(
          () => ({ code: 0, stdout: '' }),
          (error: { code: number; stdout: string }) => error,
        );
        expect(failed.code, `${command} on ${bad}`).toBe(1);
        expect(failed.stdout).toContain(`BROKEN line ${line}: `);
        expect(failed.stdout).toMatch(/, 1 broken$/m);
      }
    }
  });

  it('verifies every chain from Kafka, and reports events tampered with in Kafka with their position', async () => {
    const clean = await verifyTopics({ kafka: stack.kafka, logger: stack.logger, topics: [stack.topics.consultationEvents] });
    expect(clean).toMatchObject({ events: 11, streams: 3, broken: [] });
    expect((await cli({ kind: 'verify' })).code).toBe(0);

    const events = await consultationHistory({ kafka: stack.kafka, logger: stack.logger, topic: stack.topics.consultationEvents, consultation: main.id });
    const head = events[events.length - 1]!;
    const forge = (base: ConsultationEvent, changes: Partial<ConsultationEvent>, hash?: string): ConsultationEvent => {
      const { hash: _old, ...rest } = { ...base, ...changes, id: randomUUID() } as ConsultationEvent;
      const forged: ConsultationEvent = { ...rest, hash: hash ?? chainHash(rest, rest.previousHash) };
      return forged;
    };
    // A well-formed event that skips sequence 8, and on another stream one whose hash does not recompute.
    const skipped = forge(head, { sequence: head.sequence + 2, previousHash: head.hash });
    const [otherHead] = (await consultationHistory({ kafka: stack.kafka, logger: stack.logger, topic: stack.topics.consultationEvents, consultation: others[1]! })).slice(-1);
    const wrongHash = forge(otherHead!, { sequence: otherHead!.sequence + 1, previousHash: otherHead!.hash }, 'a'.repeat(64));
    const positions = await produceEach(
      stack.kafka,
      stack.topics.consultationEvents,
      [skipped, wrongHash].map((event) => ({ key: event.key, value: JSON.stringify(event) })),
    );

    const report = await verifyTopics({ kafka: stack.kafka, logger: stack.logger, topics: [stack.topics.consultationEvents] });
    expect(report.events).toBe(13);
    expect(report.broken).toHaveLength(2);
    expect(report.broken).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ stream: main.id, problem: 'sequence-gap', topic: stack.topics.consultationEvents, ...positions[0], sequence: 9, expectedSequence: 8 }),
        expect.objectContaining({ stream: others[1], problem: 'hash-mismatch', topic: stack.topics.consultationEvents, ...positions[1], sequence: 3, expectedSequence: 3 }),
      ]),
    );
    const failed = await cli({ kind: 'verify' });
    expect(failed.code).toBe(1);
    expect(failed.out).toContain(
      `BROKEN ${main.id} sequence-gap at ${stack.topics.consultationEvents}[${positions[0]!.partition}]@${positions[0]!.offset} sequence 9 (expected 8): sequence 9 follows 7`,
    );
    expect(failed.out.at(-1)).toMatch(/: 2 broken$/);
  });
});
