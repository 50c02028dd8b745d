import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countLogLines } from './processes.js';

// Lines as a writer logged them in a benchmark run (kafkajs through pino).
const REFUSED =
  '{"level":50,"time":"2026-12-08T00:11:23.325Z","service":"consultation","component":"kafkajs","broker":"127.0.0.1:19092","error":"The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing","correlationId":56,"namespace":"Connection","msg":"Response AddPartitionsToTxn(key: 24, version: 1)"}';
const RETRIED =
  '{"level":50,"time":"2026-12-08T00:11:23.325Z","service":"consultation","component":"kafkajs","retryCount":0,"retryTime":20,"namespace":"Producer","msg":"Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing"}';
const ABORTED = '{"level":50,"time":"2026-12-08T00:11:24.000Z","service":"consultation","partition":3,"msg":"transaction failed: aborting"}';
const WARNING = '{"level":40,"time":"2026-12-08T00:11:25.000Z","service":"consultation","msg":"taking over assigned partitions failed; retrying"}';

describe('counting what a service logged', () => {
  it('counts each request refused with CONCURRENT_TRANSACTIONS once, as kafkajs words it, and aborted transactions', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-logs-')), 'consultation.log');
    writeFileSync(file, [REFUSED, RETRIED, REFUSED, RETRIED, ABORTED, WARNING, ''].join('\n'));
    expect(countLogLines(file)).toEqual({ warnings: 1, errors: 5, concurrentTransactions: 2, abortedTransactions: 1 });
  });
});
