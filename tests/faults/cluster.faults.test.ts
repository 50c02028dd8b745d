import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_KEYS, issueKeys } from '@consult/admin';
import { createLogger } from '@consult/config';
import { allTopicSpecs, topicNames } from '@consult/contracts';
import { BatchingProducer, createKafka, ensureTopics, type KafkaClient } from '@consult/kafka';
import { startKafkaCluster, type KafkaCluster } from '../support/kafka-cluster.js';
import { commentKey, readFacts } from './support/facts.js';
import { servicePidsFile } from './support/global-setup.js';
import { api, createConsultation, until } from './support/http.js';
import { alive, killPid } from './support/infra.js';
import { LoadClient } from './support/load.js';
import { Services } from './support/services.js';

/**
 * Scale-out under faults (issue 11): a three-broker KRaft cluster (replication 3, `min.insync.replicas` 2) and
 * two processes of every service, under a steady open-loop load through both gateways. One broker is killed
 * with SIGKILL, then one instance of each service; nobody restarts anything. Kafka itself then shows every
 * acknowledged comment once, each reminder and closing once, and every consultation still being answered (its
 * partition moved to the surviving instance). Uses the fault suite's Redis under a key space of its own.
 */
const infra = inject('faultInfra');
const logger = createLogger('cluster-faults', { level: process.env.FAULTS_SUITE_LOG_LEVEL ?? 'error', pretty: false });
const topics = topicNames('');
const STATES = ['KAZ', 'KHM', 'MNG', 'RUS', 'THA'] as const;
const SERVICES = ['consultation', 'statements', 'projector', 'deadlines', 'notifier', 'gateway'] as const;
const NAMES = SERVICES.flatMap((service) => [`${service}-1`, `${service}-2`]);
const RATE = Number(process.env.FAULTS_CLUSTER_RATE ?? 100);
const BROKER_PORTS = [18292, 18293, 18294];
const CONTROLLER_PORTS = [18392, 18393, 18394];
const GATEWAY_PORTS = { 'gateway-1': 18280, 'gateway-2': 18281 };
const REQUEST_BUDGET_MS = 40_000;
const CLOSE_GRACE_MS = 2_000;
/** After the instances die, the survivors must answer for every consultation within this. */
const TAKE_OVER_MS = 15_000;
const SECRETARIAT = DEV_KEYS.secretariat.secret;

let cluster: KafkaCluster | undefined;
let kafka: KafkaClient;
let services: Services | undefined;
let load: LoadClient | undefined;
const baseUrls = (): string[] => Object.keys(GATEWAY_PORTS).map((g) => services!.baseUrl(g));

describe('scale-out: a three-broker cluster and two of every service', () => {
  beforeAll(async () => {
    cluster = await startKafkaCluster({ brokers: 3, ports: BROKER_PORTS, controllerPorts: CONTROLLER_PORTS, startTimeoutSeconds: 150 });
    kafka = createKafka({ brokers: cluster.brokers.split(','), clientId: 'cluster-faults', logger });
    await ensureTopics(kafka, allTopicSpecs(topics), logger);
    services = new Services(infra, servicePidsFile(infra), GATEWAY_PORTS, { names: NAMES, brokers: cluster.brokers, keyPrefix: 'cmsx' });
    for (const name of NAMES) services.start(name);
    const producer = new BatchingProducer(kafka, logger);
    await producer.connect();
    await issueKeys(producer, topics, Object.values(DEV_KEYS));
    await producer.close();
    await until(
      'both gateways to answer with the development keys',
      async () => (await Promise.all(baseUrls().map((u) => api(u, SECRETARIAT, 'GET', '/v1/consultations?status=open')))).every((r) => r.status === 200),
      180_000,
    );
  }, 400_000);

  afterAll(async () => {
    await load?.stop().catch(() => undefined);
    await services?.stopAll();
    await cluster?.stop();
  }, 120_000);

  it('keeps every acknowledged comment once, and every reminder and closing once, through a broker kill and the loss of one instance of each service', async () => {
    const ids = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        createConsultation(baseUrls(), SECRETARIAT, { reference: `CL/LOAD/${i}`, deadline: new Date(Date.now() + 30 * 86_400_000), reminderOffsetsSeconds: [], addressees: STATES }, 60_000),
      ),
    );
    expect(ids.every(Boolean), 'load consultations created').toBe(true);
    const client = new LoadClient({
      baseUrls: baseUrls(),
      keys: Object.fromEntries(STATES.map((s) => [s, DEV_KEYS[s].secret])),
      ratePerSecond: RATE,
      requestBudgetMs: REQUEST_BUDGET_MS,
      attemptTimeoutMs: 10_000,
    });
    load = client;
    client.setTargets(ids.map((id) => ({ consultationId: id!, states: STATES })));
    client.start('warm-up');
    await sleep(6_000);
    await client.stop();
    await client.drain(REQUEST_BUDGET_MS);

    // Two consultations whose reminders and closing fall after both faults.
    const started = Date.now();
    const deadline = new Date(started + 45_000);
    const answers: string[] = [];
    const short = await Promise.all(
      [0, 1].map((i) =>
        createConsultation(baseUrls(), SECRETARIAT, { reference: `CL/SHORT/${i}`, deadline, reminderOffsetsSeconds: [20, 10], addressees: STATES }, 30_000, (a) => answers.push(a)),
      ),
    );
    expect(short.every(Boolean), `short consultations created; answers: ${answers.slice(-6).join('; ')}`).toBe(true);
    client.addTargets(short.map((id) => ({ consultationId: id!, states: STATES, until: deadline.getTime() - 1_000 })));
    client.start('faults');

    await sleep(Math.max(0, started + 8_000 - Date.now()));
    const brokerPid = Number(readFileSync(join(cluster!.stateDir, 'node-2', 'broker.pid'), 'utf8').trim());
    expect(alive(brokerPid), 'broker node 2 running before its kill').toBe(true);
    await killPid(brokerPid, 'SIGKILL');
    expect(alive(brokerPid), 'broker node 2 gone').toBe(false);
    await sleep(Math.max(0, started + 20_000 - Date.now()));
    const instancesKilledAt = Date.now();
    expect(SERVICES.filter((service) => services!.isRunning(`${service}-1`)), 'instances running before their kill').toEqual([...SERVICES]);
    await Promise.all(SERVICES.map((service) => services!.kill(`${service}-1`)));
    await sleep(Math.max(0, deadline.getTime() + 5_000 - Date.now()));
    await client.stop();
    const left = await client.drain(REQUEST_BUDGET_MS + 5_000);

    // Kafka, read after the last closing was due, says what happened.
    await sleep(Math.max(0, deadline.getTime() + CLOSE_GRACE_MS + 15_000 - Date.now()));
    const facts = await readFacts(kafka, logger, topics);
    const records = client.records.filter((r) => r.phase === 'faults');
    const count = (r: (typeof records)[number]): number => facts.comments.get(commentKey(r.consultationId, r.memberState, r.idempotencyKey)) ?? 0;
    const acknowledged = records.filter((r) => r.status === 'acknowledged');
    const shortIds = new Set(short as string[]);
    const servedAfter = new Set(acknowledged.filter((r) => r.firstSentAt >= instancesKilledAt + TAKE_OVER_MS).map((r) => r.consultationId));
    const served = ids.filter((id) => servedAfter.has(id!)).length;
    const reminders = [...facts.reminders].filter(([key]) => shortIds.has(key.split('|')[0]!));
    const closings = [...facts.closings].filter(([id]) => shortIds.has(id));
    const counts = {
      posted: records.length,
      acknowledged: acknowledged.length,
      foundOnce: acknowledged.filter((r) => count(r) === 1).length,
      duplicates: records.filter((r) => count(r) > 1).length,
      lost: acknowledged.filter((r) => count(r) === 0).length,
      undecided: records.filter((r) => r.status === 'undecided' || r.status === 'pending').length,
      refusedWrongly: records.filter((r) => r.status === 'refused' && !(r.code === 'consultation-closed' && shortIds.has(r.consultationId))).length,
      consultationsServedAfterKills: `${served}/${ids.length}`,
      reminders: `${reminders.length}/4, ${reminders.filter(([, n]) => n > 1).length} twice`,
      closings: `${closings.length}/2, ${closings.filter(([, n]) => n > 1).length} twice`,
    };
    process.stdout.write(
      `\n## Scale-out under faults (3 brokers, 2 of every service, ${RATE}/s; broker node 2 killed, then ${SERVICES.map((s) => `${s}-1`).join(', ')})\n\n` +
        `| ${Object.keys(counts).join(' | ')} |\n|${Object.keys(counts).map(() => '---').join('|')}|\n| ${Object.values(counts).join(' | ')} |\n` +
        (left > 0 ? `\n  - ${left} requests still in flight after their budget\n` : ''),
    );

    expect.soft(counts.acknowledged, 'some comments acknowledged').toBeGreaterThan(0);
    expect.soft(counts.foundOnce, 'every acknowledged comment in Kafka once').toBe(counts.acknowledged);
    expect.soft(counts.duplicates, 'duplicates').toBe(0);
    expect.soft(counts.lost, 'lost').toBe(0);
    expect.soft(counts.undecided, 'undecided').toBe(0);
    expect.soft(counts.refusedWrongly, 'refused wrongly').toBe(0);
    expect.soft(served, 'every consultation answered by the surviving instances').toBe(ids.length);
    expect.soft(reminders.map(([, n]) => n), 'each reminder once').toEqual([1, 1, 1, 1]);
    expect.soft(closings.map(([, n]) => n), 'each closing once').toEqual([1, 1]);
    expect.soft(services!.unexpectedExits, 'no process died by itself').toEqual([]);
  }, 400_000);
});
