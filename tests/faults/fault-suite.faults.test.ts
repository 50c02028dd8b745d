import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_KEYS, issueKeys } from '@consult/admin';
import { createLogger } from '@consult/config';
import { allTopicSpecs, canonicalJson, notificationTopicNames, sha256Hex, topicNames } from '@consult/contracts';
import { BatchingProducer, createKafka, ensureTopics, type KafkaClient } from '@consult/kafka';
import { createRedis, KeySpace, type Redis } from '@consult/redis';
import { compareKeySpaces, rebuildPrefix, rebuildReadModels } from '@consult/replay';
import { commentKey, readFacts, type KafkaFacts } from './support/facts.js';
import { api, createConsultation as createConsultationThrough, until } from './support/http.js';
import { servicePidsFile } from './support/global-setup.js';
import { kafkaBrokers, kafkaPid, kafkaUp, killPid, redisDown, redisPid, redisUp, redisUrl } from './support/infra.js';
import { LoadClient, type PostRecord, type Target } from './support/load.js';
import { SERVICE_NAMES, Services, type ServiceName } from './support/services.js';
import { GUARDED, markdownTable, RECOVERY_LIMIT_SECONDS, type FaultRow } from './support/table.js';
import { WebhookReceiver } from './support/webhooks.js';

/**
 * The fault suite (issue 9): the whole system as real processes on its own broker and Redis, under an
 * open-loop load of comment posts, through one fault after another. After each fault and its recovery it
 * checks, from Kafka itself, that nothing acknowledged was lost or doubled, that reminders and closings
 * happened once, that webhooks arrived, and that the read models equal a fresh rebuild; one table row each.
 */
const infra = inject('faultInfra');
const logger = createLogger('fault-suite', { level: process.env.FAULTS_SUITE_LOG_LEVEL ?? 'error', pretty: false });
const topics = topicNames('');
const notificationTopics = notificationTopicNames(topics);
const KEY_PREFIX = 'cms';
const STATES = ['KAZ', 'KHM', 'MNG', 'RUS', 'THA'] as const;
const RATE = Number(process.env.FAULTS_RATE ?? 210);
const PHASE_MS = Number(process.env.FAULTS_PHASE_SECONDS ?? 15) * 1000;
/** When, in a phase, the fault strikes; the phase's short consultations fall due just after it. */
const FAULT_AT_MS = 5_000;
const CLOSE_GRACE_MS = 2_000;
/** One comment request's whole life, retries and 202 follow-up included. */
const REQUEST_BUDGET_MS = 40_000;
/** A reminder or closing not in Kafka this long after it was due counts as missed. */
const EFFECT_DUE_WITHIN_MS = 15_000;
const gatewayPort = Number(process.env.FAULTS_GATEWAY_PORT ?? 18180);
const memberKeys: Record<string, string> = Object.fromEntries(STATES.map((s) => [s, DEV_KEYS[s].secret]));
const SECRETARIAT = DEV_KEYS.secretariat.secret;

let kafka: KafkaClient;
let redis: Redis;
let producer: BatchingProducer;
let services: Services;
let load: LoadClient;
let receiver: WebhookReceiver;
const rows: FaultRow[] = [];
/** Findings already counted in an earlier row, so each row shows what its own fault caused. */
const reported = { twice: new Set<string>(), missed: new Set<string>(), webhooks: new Set<string>(), onTime: new Set<string>() };
/** Consultations whose reminders and closing fall inside the run. */
const shortConsultations = new Set<string>();

const baseUrls = (): string[] => [services.baseUrl('gateway-a'), services.baseUrl('gateway-b')];

/** A consultation addressed to the load's member states, created through the gateways. */
const createConsultation = (reference: string, deadline: Date, reminderOffsetsSeconds: number[], budgetMs = 30_000): Promise<string | undefined> =>
  createConsultationThrough(baseUrls(), SECRETARIAT, { reference, deadline, reminderOffsetsSeconds, addressees: STATES }, budgetMs);

/** The live read models against a fresh rebuild from Kafka: keys differing (or -1 if the rebuild failed). */
async function rebuildDifferences(notes: string[]): Promise<number> {
  let differences = -1;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const prefix = rebuildPrefix(KEY_PREFIX);
    try {
      await rebuildReadModels({ kafka, redis, logger, topics, keyPrefix: prefix });
      const result = await compareKeySpaces(redis, KEY_PREFIX, prefix);
      differences = result.differences.length;
      if (differences === 0) return 0;
      if (attempt === 2)
        notes.push(`rebuild: ${differences} of ${result.keys} keys differ, e.g. ${result.differences.slice(0, 3).map((d) => `${d.kind} ${d.key}: ${d.detail.slice(0, 120)}`).join(' | ')}`);
    } catch (error) {
      differences = -1;
      if (attempt === 2) notes.push(`rebuild failed: ${String(error).slice(0, 200)}`);
    } finally {
      await new KeySpace(prefix).clear(redis).catch(() => undefined);
    }
    // The projector may still be catching up after the load: look again once.
    await sleep(3_000);
  }
  return differences;
}

/** Reminders and closings due more than EFFECT_DUE_WITHIN_MS ago that Kafka has no record of, not counted before. */
function missedEffects(facts: KafkaFacts): string[] {
  const missed: string[] = [];
  const now = Date.now();
  for (const id of shortConsultations) {
    const c = facts.consultations.get(id);
    if (!c) continue;
    for (const offset of c.reminderOffsetsSeconds) {
      const due = c.deadline - offset * 1000;
      const key = `${id}|${c.deadline}|${offset}`;
      if (due >= c.openedAt && due + EFFECT_DUE_WITHIN_MS < now && !facts.reminders.has(key)) missed.push(`reminder ${key}`);
    }
    if (c.deadline + CLOSE_GRACE_MS + EFFECT_DUE_WITHIN_MS < now && !facts.closings.has(id)) missed.push(`closing ${id}`);
  }
  return missed.filter((m) => !reported.missed.has(m));
}

/** Webhook deliveries Kafka says are due and the receiver has not seen, after a bounded wait. */
async function missingWebhooks(facts: KafkaFacts): Promise<string[]> {
  const expected = [
    // The Secretariat hears of openings and closings; reminders go to the addressees still pending (audienceOf).
    ...facts.notifiable.filter((e) => e.type === 'consultation.opened' || e.type === 'consultation.closed').map((e) => ({ path: '/secretariat', id: e.id })),
    ...facts.notifiable
      .filter((e) => (e.type === 'consultation.comment-submitted' && e.memberState === 'MNG') || (e.type === 'consultation.reminder-issued' && e.pending?.includes('MNG')))
      .map((e) => ({ path: '/mng', id: e.id })),
  ];
  const missing = (): string[] => {
    const byPath = { '/secretariat': receiver.received('/secretariat'), '/mng': receiver.received('/mng') };
    return expected.filter((e) => !byPath[e.path as '/secretariat' | '/mng'].has(e.id)).map((e) => `${e.path} ${e.id}`).filter((m) => !reported.webhooks.has(m));
  };
  const end = Date.now() + 15_000;
  while (missing().length > 0 && Date.now() < end) await sleep(500);
  return missing();
}

interface PhaseContext {
  row: FaultRow;
  notes: string[];
  /** Requests the phase sent itself (outside the load), checked like the load's. */
  extra: PostRecord[];
  /** Commands the phase produced that must get an outcome. */
  awaitedOutcomes: string[];
}

/** One fault: load, the fault at FAULT_AT_MS, recovery, then the checks. Returns the row. */
async function runPhase(fault: string, strike: (ctx: PhaseContext) => Promise<void>, options: { singleProcess?: boolean } = {}): Promise<FaultRow> {
  const notes: string[] = [];
  const revived = services.reviveDead();
  if (revived.length > 0) notes.push(`restarted before the phase (had died): ${revived.join(', ')}`);
  const started = Date.now();
  // Two consultations whose reminders (6 s and 3 s before) and deadline fall just after the fault.
  const deadline = new Date(started + FAULT_AT_MS + 4_000);
  const ids = await Promise.all([0, 1].map((i) => createConsultation(`FT/${rows.length}/${i}`, deadline, [6, 3], 4_000)));
  const targets: Target[] = [];
  for (const id of ids)
    if (id) {
      shortConsultations.add(id);
      targets.push({ consultationId: id, states: STATES, until: deadline.getTime() + 500 });
    } else notes.push('a short consultation could not be created before the fault');
  load.addTargets(targets);
  load.start(fault);
  const ctx: PhaseContext = { row: undefined as unknown as FaultRow, notes, extra: [], awaitedOutcomes: [] };
  await sleep(Math.max(0, started + FAULT_AT_MS - Date.now()));
  const faultAt = Date.now();
  await strike(ctx);
  await sleep(Math.max(started + PHASE_MS - Date.now(), 8_000));
  await load.stop();
  const left = await load.drain(REQUEST_BUDGET_MS + 5_000);
  if (left > 0) notes.push(`${left} requests still in flight after their budget`);
  // Statuses as they stand now, before Kafka is read: a request still open counts as undecided.
  const records = [...load.records.filter((r) => r.phase === fault).map((r) => ({ ...r })), ...ctx.extra];
  let facts = await readFacts(kafka, logger, topics);
  // Commands the phase produced itself must be decided: give them a bounded while.
  const outcomesBy = Date.now() + 15_000;
  while (Date.now() < outcomesBy && ctx.awaitedOutcomes.some((id) => !facts.outcomes.has(id))) {
    await sleep(500);
    facts = await readFacts(kafka, logger, topics);
  }
  for (const record of ctx.extra) {
    const outcome = record.commandId ? facts.outcomes.get(record.commandId) : undefined;
    if (outcome) {
      record.status = outcome.status === 'accepted' ? 'acknowledged' : 'refused';
      if (outcome.code) record.code = outcome.code;
    }
  }
  const count = (r: PostRecord): number => facts.comments.get(commentKey(r.consultationId, r.memberState, r.idempotencyKey)) ?? 0;
  const acknowledged = records.filter((r) => r.status === 'acknowledged');
  const wrongly = records.filter((r) => r.status === 'refused' && !(r.code === 'consultation-closed' && shortConsultations.has(r.consultationId)));
  const codes = new Map<string, number>();
  for (const r of records.filter((r) => r.status === 'refused')) codes.set(r.code ?? '?', (codes.get(r.code ?? '?') ?? 0) + 1);
  if (codes.size > 0) notes.push(`refusals: ${[...codes].map(([c, n]) => `${c}×${n}`).join(', ')}`);
  const undecided = records.filter((r) => r.status === 'undecided' || r.status === 'pending').length;
  const noOutcome = ctx.awaitedOutcomes.filter((id) => !facts.outcomes.has(id));
  if (noOutcome.length > 0) notes.push(`${noOutcome.length} produced commands never got an outcome`);

  // Every reminder and closing of the phase must be in Kafka within EFFECT_DUE_WITHIN_MS of its due time.
  const lastDue = deadline.getTime() + CLOSE_GRACE_MS + EFFECT_DUE_WITHIN_MS;
  if (Date.now() < lastDue) {
    await sleep(lastDue - Date.now() + 500);
    facts = await readFacts(kafka, logger, topics);
  }
  // Counted on the last read: a reminder or closing issued a second time late in the phase counts too.
  const twice = [
    ...[...facts.reminders].filter(([, n]) => n > 1).map(([k]) => `reminder ${k}`),
    ...[...facts.closings].filter(([, n]) => n > 1).map(([k]) => `closing ${k}`),
  ].filter((k) => !reported.twice.has(k));
  twice.forEach((k) => reported.twice.add(k));
  const missed = missedEffects(facts);
  missed.forEach((k) => reported.missed.add(k));
  if (missed.length > 0) notes.push(`missed: ${missed.slice(0, 4).join(', ')}`);
  const onTime = facts.onTimeRefused.filter((r) => !reported.onTime.has(r.commandId));
  onTime.forEach((r) => reported.onTime.add(r.commandId));
  if (onTime.length > 0) notes.push(`on-time refused, e.g. received ${onTime[0]!.receivedAt} for deadline ${onTime[0]!.deadline}`);
  const webhooks = await missingWebhooks(facts);
  const arrivedLate = [...reported.webhooks].filter((k) => {
    const [path, id] = k.split(' ');
    return receiver.received(path!).has(id!);
  });
  arrivedLate.forEach((k) => reported.webhooks.delete(k));
  if (arrivedLate.length > 0) notes.push(`${arrivedLate.length} webhook deliveries counted missing in an earlier row arrived since`);
  webhooks.forEach((k) => reported.webhooks.add(k));
  if (webhooks.length > 0) {
    const typeOf = new Map(facts.notifiable.map((e) => [e.id, `${e.type} of ${e.key}`]));
    notes.push(`webhooks missing, e.g. ${webhooks.slice(0, 4).map((k) => `${k} (${typeOf.get(k.split(' ')[1]!) ?? '?'})`).join('; ')}`);
  }
  const rebuildDiffs = await rebuildDifferences(notes);
  const first = load.successes.filter((s) => s.sentAt >= faultAt).reduce<number | null>((min, s) => (min === null || s.answeredAt < min ? s.answeredAt : min), null);
  // A process that died by itself is a defect (the suite restarts it before the next phase).
  const diedByThemselves = services.unexpectedExits.splice(0);
  notes.push(...diedByThemselves);

  const row: FaultRow = {
    fault,
    posted: records.length,
    acknowledged: acknowledged.length,
    foundOnce: acknowledged.filter((r) => count(r) === 1).length,
    refusedWrongly: wrongly.length,
    undecided: undecided + noOutcome.length,
    duplicates: records.filter((r) => count(r) > 1).length,
    lost: acknowledged.filter((r) => count(r) === 0).length,
    onTimeRefused: onTime.length,
    issuedTwice: twice.length,
    missed: missed.length,
    webhooksMissing: webhooks.length,
    rebuildDiffs,
    diedByThemselves: diedByThemselves.length,
    recoverySeconds: first === null ? null : Math.max(0, (first - faultAt) / 1000),
    recoveryGuarded: options.singleProcess ?? false,
    notes,
  };
  rows.push(row);
  process.stdout.write(`\n${markdownTable([row])}\n${notes.map((n) => `  - ${n}`).join('\n')}\n`);
  return row;
}

function assertRow(row: FaultRow): void {
  for (const column of GUARDED) expect.soft(row[column], `${row.fault}: ${column}`).toBe(0);
  if (row.recoveryGuarded) {
    expect.soft(row.recoverySeconds, `${row.fault}: a 201 after the fault`).not.toBeNull();
    expect.soft(row.recoverySeconds ?? Infinity, `${row.fault}: seconds to the first 201`).toBeLessThanOrEqual(RECOVERY_LIMIT_SECONDS);
  }
  expect.soft(row.acknowledged, `${row.fault}: some comment acknowledged`).toBeGreaterThan(0);
}

/** Polls /readyz until it answers not ready (true) or `withinMs` pass (false). */
async function readinessFalls(baseUrl: string, withinMs: number): Promise<boolean> {
  const end = Date.now() + withinMs;
  while (Date.now() < end) {
    const ready = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      async (r) => r.ok && ((await r.json()) as { ready?: boolean }).ready === true,
      () => false,
    );
    if (!ready) return true;
    await sleep(250);
  }
  return false;
}

/** Produces a record straight into a topic (and partition), as a buggy or newer producer would. */
async function produce(topic: string, key: string, value: string, partition?: number): Promise<void> {
  await producer.send(topic, [{ key, value, ...(partition === undefined ? {} : { partition }) }]);
}

describe('faults: nothing acknowledged is lost or doubled', () => {
  beforeAll(async () => {
    kafka = createKafka({ brokers: [kafkaBrokers(infra)], clientId: 'fault-suite', logger });
    redis = createRedis(redisUrl(infra), logger);
    await ensureTopics(kafka, allTopicSpecs(topics), logger);
    services = new Services(infra, servicePidsFile(infra), { 'gateway-a': gatewayPort, 'gateway-b': gatewayPort + 1 });
    for (const name of SERVICE_NAMES) services.start(name);
    producer = new BatchingProducer(kafka, logger);
    await producer.connect();
    await issueKeys(producer, topics, Object.values(DEV_KEYS));
    await until(
      'both gateways to answer with the development keys',
      async () => (await Promise.all(baseUrls().map((u) => api(u, SECRETARIAT, 'GET', '/v1/consultations?status=open')))).every((r) => r.status === 200),
      120_000,
    );
    receiver = new WebhookReceiver();
    const hooks = await receiver.listen();
    const secret = 'fault-suite-webhook-secret';
    const secretariat = await api(baseUrls()[0]!, DEV_KEYS.secretariat.secret, 'POST', '/v1/subscriptions', {
      url: `${hooks}/secretariat`,
      events: ['consultation.opened', 'consultation.closed'],
      secret,
    });
    const mng = await api(baseUrls()[1]!, DEV_KEYS.MNG.secret, 'POST', '/v1/subscriptions', { url: `${hooks}/mng`, events: ['consultation.comment-submitted', 'consultation.reminder-issued'], secret });
    if (secretariat.status !== 201 || mng.status !== 201) throw new Error(`subscriptions not created: ${secretariat.status} ${mng.status} ${JSON.stringify(secretariat.body)}`);
    const longDeadline = new Date(Date.now() + 30 * 86_400_000);
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => createConsultation(`FT/LOAD/${i}`, longDeadline, [], 60_000)));
    if (ids.some((id) => !id)) throw new Error('load consultations not created');
    load = new LoadClient({ baseUrls: baseUrls(), keys: memberKeys, ratePerSecond: RATE, requestBudgetMs: REQUEST_BUDGET_MS, attemptTimeoutMs: 10_000 });
    load.setTargets(ids.map((id) => ({ consultationId: id!, states: STATES })));
    // Warm-up (not counted): the first transactions and group joins are slow on a fresh broker.
    load.start('warm-up');
    await sleep(8_000);
    await load.stop();
    await load.drain(30_000);
  }, 300_000);

  afterAll(async () => {
    await load?.stop().catch(() => undefined);
    await services?.stopAll();
    await producer?.close().catch(() => undefined);
    redis?.disconnect();
    await receiver?.close().catch(() => undefined);
    const table = markdownTable(rows);
    const file = join(infra.dir, 'fault-table.md');
    writeFileSync(file, `${table}\n\n${rows.flatMap((r) => r.notes.map((n) => `- ${r.fault}: ${n}`)).join('\n')}\n`);
    const failed = rows.some((r) => GUARDED.some((c) => r[c] !== 0) || (r.recoveryGuarded && (r.recoverySeconds === null || r.recoverySeconds > RECOVERY_LIMIT_SECONDS)));
    process.stdout.write(`\n## Fault suite\n\n${table}\n\n(also in ${file})\n`);
    if (failed && services) process.stdout.write(`\nservice logs:\n${services.logs.map((l) => `  ${l}`).join('\n')}\n`);
  }, 120_000);

  it('baseline: no fault', async () => {
    assertRow(await runPhase('none (baseline)', async () => {}));
  });

  const kills: ServiceName[] = ['consultation', 'statements', 'projector', 'deadlines', 'notifier', 'gateway-a'];
  for (const name of kills)
    it(`kill -9 ${name}, then restart`, async () => {
      let readinessFell: boolean | undefined;
      const row = await runPhase(
        `kill -9 ${name}`,
        async () => {
          await services.kill(name);
          services.start(name);
          // While the dead writer still holds its partitions, comments cannot be decided: /readyz must say so.
          if (name === 'consultation') readinessFell = await readinessFalls(services.baseUrl('gateway-b'), 8_000);
        },
        { singleProcess: true },
      );
      if (readinessFell !== undefined) {
        row.notes.push(readinessFell ? '/readyz said not ready while the writer was down' : '/readyz stayed ready while the writer was down');
        expect.soft(readinessFell, `${row.fault}: /readyz turns false while comments cannot be decided`).toBe(true);
      }
      assertRow(row);
    });

  it('kill -9 the Kafka broker, then restart it', async () => {
    assertRow(
      await runPhase('kill -9 Kafka', async () => {
        await killPid(kafkaPid(infra), 'SIGKILL');
        await kafkaUp(infra);
      }),
    );
  });

  it('a comment received before the deadline reaches the writer after the closing', async () => {
    assertRow(
      await runPhase('late on-time comment', async (ctx) => {
        const deadline = new Date(Date.now() + 2_000);
        const id = await createConsultation(`FT/LATE/${Date.now()}`, deadline, [], 5_000);
        if (!id) {
          ctx.notes.push('the consultation for the late comment could not be created');
          return;
        }
        shortConsultations.add(id);
        await until('the consultation to close', async () => (await api(baseUrls()[0]!, SECRETARIAT, 'GET', `/v1/consultations/${id}`)).body.status === 'closed', 30_000).catch(
          () => ctx.notes.push('the consultation did not close within 30 s'),
        );
        const commandId = randomUUID();
        const idempotencyKey = `late-${commandId}`;
        const body = { body: 'Received in time, delayed in transit.', language: 'en' };
        const receivedAt = new Date(deadline.getTime() - 1_500).toISOString();
        await produce(
          topics.consultationCommands,
          id,
          JSON.stringify({
            id: commandId,
            key: id,
            receivedAt,
            correlationId: commandId,
            actor: { kind: 'member-state', id: 'KHM' },
            type: 'consultation.submit-comment',
            version: 1,
            data: { commentId: randomUUID(), memberState: 'KHM', idempotencyKey, body: body.body, language: body.language, bodyHash: sha256Hex(canonicalJson(body)) },
          }),
        );
        ctx.awaitedOutcomes.push(commandId);
        ctx.extra.push({
          phase: 'late on-time comment',
          idempotencyKey,
          commandId,
          consultationId: id,
          memberState: 'KHM',
          firstSentAt: Date.parse(receivedAt),
          status: 'pending',
          attempts: 1,
        });
      }),
    );
  });

  it('FLUSHALL Redis under running services', async () => {
    assertRow(
      await runPhase('Redis FLUSHALL', async () => {
        await redis.flushall();
      }),
    );
  });

  it('kill -9 the Redis server, then restart it (empty)', async () => {
    assertRow(
      await runPhase('kill -9 Redis', async () => {
        await redisDown(infra);
        if (redisPid(infra) !== undefined) await sleep(200);
        await redisUp(infra);
      }),
    );
  });

  it('poison records in every consumed topic', async () => {
    assertRow(
      await runPhase('poison records', async (ctx) => {
        const now = new Date().toISOString();
        const actor = { kind: 'secretariat', id: 'secretariat' };
        const envelope = (type: string, version: number, key: string) => ({
          id: randomUUID(),
          source: 'fault-suite',
          type,
          version,
          occurredAt: now,
          key,
          correlationId: randomUUID(),
          causationId: null,
          actor,
          data: {},
        });
        const command = (type: string, version: number, key: string) => ({ id: randomUUID(), key, receivedAt: now, correlationId: randomUUID(), actor, type, version, data: {} });
        const consumed: [string, number, string][] = [
          [topics.consultationCommands, 6, 'consultation.submit-comment'],
          [topics.consultationEvents, 6, 'consultation.opened'],
          [topics.consultationOutcomes, 6, 'command.outcome'],
          [topics.identityEvents, 1, 'identity.api-key-issued'],
          [topics.csoCommands, 6, 'cso.submit-statement'],
          [topics.csoEvents, 6, 'cso.accredited'],
          [topics.csoOutcomes, 6, 'command.outcome'],
          [notificationTopics.subscriptionEvents, 1, 'subscription.created'],
          [notificationTopics.subscriptionKeys, 1, 'subscription.key-sealed'],
          [notificationTopics.deliveries, 6, 'delivery.requested'],
        ];
        for (const [topic, partitions, knownType] of consumed)
          for (let partition = 0; partition < partitions; partition++) {
            const key = randomUUID();
            const isCommand = topic === topics.consultationCommands || topic === topics.csoCommands;
            const unknown = isCommand ? command('fault-suite.unknown', 1, key) : envelope('fault-suite.unknown', 1, key);
            const newer = isCommand ? command(knownType, 99, key) : envelope(knownType, 99, key);
            if (isCommand) ctx.awaitedOutcomes.push(unknown.id, newer.id);
            await produce(topic, key, '{"this is": not JSON', partition);
            await produce(topic, key, JSON.stringify(unknown), partition);
            await produce(topic, key, JSON.stringify(newer), partition);
          }
      }),
    );
  });

});
