// Smoke test: kafkajs 2.2.4 against the local broker (infra/kafka/kafka.sh up).
//
//   KAFKA_BROKERS=127.0.0.1:19092 node smoke.mjs
//
// Checks protocol-version overlap for every API kafkajs implements, admin (create/list topics), an idempotent producer, a consumer group,
// transactions (send + sendOffsets + commit, and abort) seen through a
// read_committed consumer, then runs the end-of-partition experiment described
// in docs/adr/0001-kafka-broker-version.md and prints what kafkajs reports.
// Exit code 0 only if every check passed; the last line is "N passed, N failed".
import kafkajs from 'kafkajs'
import { apiCompatibility } from './api-versions.mjs'

const { Kafka, logLevel, Partitioners } = kafkajs

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:19092').split(',').map((b) => b.trim())
const runId = `${Date.now().toString(36)}-${process.pid}`
const kafka = new Kafka({
  clientId: `smoke-${runId}`,
  brokers,
  logLevel: logLevel.WARN,
  connectionTimeout: 5000,
  retry: { retries: 8, initialRetryTime: 200 },
})

let passed = 0
let failed = 0
const check = (ok, what) => {
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await predicate()) return true
    await sleep(100)
  }
  console.log(`     (timed out after ${timeoutMs} ms waiting for ${what})`)
  return false
}
// Waits until `count()` has not changed for `quietMs` (bounded by timeoutMs).
async function settle(count, quietMs = 2500, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs
  let last = count()
  let since = Date.now()
  while (Date.now() < deadline) {
    await sleep(100)
    const now = count()
    if (now !== last) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quietMs) return
  }
}

const topic = (name) => `smoke.${name}.${runId}`
const plainTopic = topic('plain')
const txTopic = topic('tx')
const eopTopic = topic('eop')
const txGroup = `smoke-tx-offsets-${runId}`

const admin = kafka.admin()
const cleanups = []

async function startConsumer({ groupId, topics, readUncommitted = false, handlers }) {
  const consumer = kafka.consumer({
    groupId,
    readUncommitted,
    maxWaitTimeInMs: 250,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
  })
  cleanups.push(() => consumer.disconnect())
  await consumer.connect()
  for (const t of topics) await consumer.subscribe({ topic: t, fromBeginning: true })
  await consumer.run(handlers)
  return consumer
}

async function protocol() {
  console.log('# protocol versions (ApiVersions vs what kafkajs 2.2.4 implements)')
  const rows = await apiCompatibility(brokers[0])
  const bad = rows.filter((r) => !r.ok)
  for (const r of bad) console.log(`     ${r.api}: kafkajs ${r.kafkajs}, broker ${r.broker}`)
  check(bad.length === 0, `all ${rows.length} APIs kafkajs implements have a version the broker accepts`)
}

async function basics() {
  console.log('# admin')
  await admin.connect()
  const cluster = await admin.describeCluster()
  check(cluster.brokers.length === 1, `describeCluster: ${cluster.brokers.length} broker(s), controller ${cluster.controller}`)
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: plainTopic, numPartitions: 3, replicationFactor: 1 },
      { topic: txTopic, numPartitions: 3, replicationFactor: 1 },
      { topic: eopTopic, numPartitions: 1, replicationFactor: 1 },
    ],
  })
  check(created === true, 'createTopics created 3 topics')
  const listed = await admin.listTopics()
  check([plainTopic, txTopic, eopTopic].every((t) => listed.includes(t)), 'listTopics lists them')
  const meta = await admin.fetchTopicMetadata({ topics: [plainTopic] })
  check(meta.topics[0].partitions.length === 3, `${plainTopic} has 3 partitions`)

  console.log('# idempotent producer (acks -1, maxInFlightRequests 1)')
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  cleanups.push(() => producer.disconnect())
  await producer.connect()
  const N = 30
  const sent = Array.from({ length: N }, (_, i) => ({ key: `k${i}`, value: `plain-${i}` }))
  const acks = await producer.send({ topic: plainTopic, acks: -1, messages: sent })
  check(
    acks.every((r) => r.errorCode === 0) && new Set(acks.map((r) => r.partition)).size > 1,
    `sent ${N} messages across ${new Set(acks.map((r) => r.partition)).size} partitions`,
  )
  await producer.disconnect()

  console.log('# consumer group')
  const got = new Map()
  await startConsumer({
    groupId: `smoke-plain-${runId}`,
    topics: [plainTopic],
    handlers: {
      eachMessage: async ({ partition, message }) => {
        got.set(message.value.toString(), partition)
      },
    },
  })
  await waitFor(() => got.size >= N, 30000, `${N} messages`)
  check(sent.every((m) => got.has(m.value)) && got.size === N, `consumer group received all ${N} messages (${got.size})`)
}

async function transactions() {
  console.log('# transactions')
  const txProducer = kafka.producer({
    transactionalId: `smoke-tx-${runId}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  cleanups.push(() => txProducer.disconnect())
  await txProducer.connect()

  const perPartition = (prefix) =>
    [0, 1, 2].flatMap((partition) => [0, 1].map((i) => ({ partition, value: `${prefix}-p${partition}-${i}` })))
  const committed = perPartition('committed')
  const aborted = perPartition('aborted')
  const sentinels = [0, 1, 2].map((partition) => ({ partition, value: `sentinel-p${partition}` }))

  const tx1 = await txProducer.transaction()
  await tx1.send({ topic: txTopic, messages: committed })
  await tx1.sendOffsets({
    consumerGroupId: txGroup,
    topics: [{ topic: plainTopic, partitions: [{ partition: 0, offset: '5' }] }],
  })
  await tx1.commit()
  check(true, 'transaction 1: send + sendOffsets + commit')

  const tx2 = await txProducer.transaction()
  await tx2.send({ topic: txTopic, messages: aborted })
  await tx2.abort()
  check(true, 'transaction 2: send + abort')

  // A committed sentinel after the aborted records on every partition: once a
  // consumer has seen all sentinels it has read past the aborted records.
  const tx3 = await txProducer.transaction()
  await tx3.send({ topic: txTopic, messages: sentinels })
  await tx3.commit()
  await txProducer.disconnect()

  const offsets = await admin.fetchOffsets({ groupId: txGroup, topics: [plainTopic] })
  const p0 = offsets[0].partitions.find((p) => p.partition === 0)
  check(p0 && p0.offset === '5', `sendOffsets committed offset ${p0 && p0.offset} for ${txGroup} ${plainTopic}[0]`)

  const readers = {}
  for (const readUncommitted of [false, true]) {
    const seen = new Set()
    readers[readUncommitted ? 'read_uncommitted' : 'read_committed'] = seen
    await startConsumer({
      groupId: `smoke-tx-${readUncommitted ? 'ru' : 'rc'}-${runId}`,
      topics: [txTopic],
      readUncommitted,
      handlers: { eachMessage: async ({ message }) => void seen.add(message.value.toString()) },
    })
  }
  const rc = readers.read_committed
  const ru = readers.read_uncommitted
  await waitFor(() => sentinels.every((m) => rc.has(m.value)), 30000, 'read_committed sentinels')
  await waitFor(() => sentinels.every((m) => ru.has(m.value)), 30000, 'read_uncommitted sentinels')
  check(committed.every((m) => rc.has(m.value)), `read_committed consumer sees all ${committed.length} committed messages`)
  check(aborted.every((m) => !rc.has(m.value)), 'read_committed consumer sees none of the aborted messages')
  check(aborted.every((m) => ru.has(m.value)), 'read_uncommitted consumer does see the aborted records (so the abort was real)')
}

// End-of-partition experiment: one partition whose log ends with a transaction
// marker. Records every eachBatch call and every batch instrumentation event.
async function endOfPartition() {
  console.log('# end-of-partition experiment (1 partition, transactional writes)')
  const txProducer = kafka.producer({
    transactionalId: `smoke-eop-${runId}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  cleanups.push(() => txProducer.disconnect())
  await txProducer.connect()
  const writeTx = async (values, commit) => {
    const tx = await txProducer.transaction()
    await tx.send({ topic: eopTopic, messages: values.map((value) => ({ partition: 0, value })) })
    await (commit ? tx.commit() : tx.abort())
  }

  const records = { read_committed: [], read_uncommitted: [], read_committed_late: [] }
  const phases = {
    A: '3 committed (offsets 0-2, COMMIT marker 3) before the consumers start',
    B: 'consumers caught up; 2 more committed (offsets 4-5, COMMIT marker 6)',
    C: '2 aborted (offsets 7-8, ABORT marker 9)',
    D: 'transaction left OPEN with 2 records (offsets 10-11); read_committed_late starts from the beginning now',
    E: 'the open transaction commits (COMMIT marker 12)',
  }
  let phase = 'A'
  const groupOf = (name) => `smoke-eop-${name}-${runId}`
  const startRecorder = async (name) => {
    const out = records[name]
    const consumer = await startConsumer({
      groupId: groupOf(name),
      topics: [eopTopic],
      readUncommitted: name === 'read_uncommitted',
      handlers: {
        eachBatch: async ({ batch }) => {
          out.push({
            phase,
            via: 'eachBatch',
            offsets: batch.messages.map((m) => Number(m.offset)).join(',') || '-',
            highWatermark: batch.highWatermark,
            lastOffset: batch.lastOffset(),
            offsetLag: batch.offsetLag(),
            offsetLagLow: batch.offsetLagLow(),
            isEmpty: batch.isEmpty(),
          })
        },
      },
    })
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      out.push({
        phase,
        via: 'END_BATCH_PROCESS',
        offsets: `batchSize=${payload.batchSize}`,
        highWatermark: payload.highWatermark,
        lastOffset: payload.lastOffset,
        offsetLag: payload.offsetLag,
        offsetLagLow: payload.offsetLagLow,
        isEmpty: payload.batchSize === 0,
      })
    })
    return consumer
  }
  const total = () => Object.values(records).reduce((n, rows) => n + rows.length, 0)

  await writeTx(['a0', 'a1', 'a2'], true)
  await startRecorder('read_committed')
  await startRecorder('read_uncommitted')
  await settle(total)

  phase = 'B'
  await writeTx(['b0', 'b1'], true)
  await settle(total)

  phase = 'C'
  await writeTx(['c0', 'c1'], false)
  await settle(total)

  phase = 'D'
  const open = await txProducer.transaction()
  await open.send({ topic: eopTopic, messages: [{ partition: 0, value: 'd0' }, { partition: 0, value: 'd1' }] })
  await startRecorder('read_committed_late')
  await settle(total)

  phase = 'E'
  await open.commit()
  await settle(total)
  await txProducer.disconnect()

  const [end] = await admin.fetchTopicOffsets(eopTopic)
  console.log(`     topic high watermark at the end: ${end.high} (the last record, offset ${end.high - 1}, is a COMMIT marker)`)
  for (const [key, text] of Object.entries(phases)) console.log(`     phase ${key}: ${text}`)
  for (const [name, rows] of Object.entries(records)) {
    const offs = await admin.fetchOffsets({ groupId: groupOf(name), topics: [eopTopic] })
    console.log(`     ${name} (group's committed offset at the end: ${offs[0].partitions[0].offset})`)
    console.table(rows)
  }

  const calls = Object.values(records).flat()
  check(calls.some((r) => r.via === 'eachBatch'), 'eop: eachBatch was called for the visible records')
  check(!calls.some((r) => r.via === 'eachBatch' && r.isEmpty), 'eop: eachBatch is never called with an empty batch')
  check(
    calls.some((r) => r.via === 'END_BATCH_PROCESS' && r.isEmpty),
    'eop: a fetch that holds only a marker (or only aborted records) emits END_BATCH_PROCESS with batchSize 0',
  )
  for (const name of ['read_committed', 'read_uncommitted', 'read_committed_late']) {
    const last = records[name].at(-1)
    check(
      last && last.offsetLag === '0' && last.lastOffset === String(end.high - 1),
      `eop: ${name} last report at the end: lastOffset=${last && last.lastOffset} (the marker) offsetLag=${last && last.offsetLag}`,
    )
  }
  const late = records.read_committed_late.find((r) => r.phase === 'D' && r.via === 'eachBatch')
  check(
    late && Number(late.offsetLag) > 0,
    `eop: while a transaction is open, a read_committed batch that ends at the stable offset has offsetLag=${late && late.offsetLag} (> 0)`,
  )
}

const timer = setTimeout(() => {
  console.log('FAIL smoke test did not finish within 150 s')
  console.log(`${passed} passed, ${failed + 1} failed`)
  process.exit(1)
}, 150000)

try {
  await protocol()
  await basics()
  await transactions()
  await endOfPartition()
} catch (err) {
  failed++
  console.log(`FAIL ${err && err.stack ? err.stack : err}`)
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  try {
    await admin.deleteTopics({ topics: [plainTopic, txTopic, eopTopic] })
  } catch {
    // best effort
  }
  await admin.disconnect().catch(() => {})
  clearTimeout(timer)
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
