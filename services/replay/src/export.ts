import { open } from 'node:fs/promises';
import type { Logger } from '@consult/config';
import type { Kafka } from '@consult/kafka';
import { readEventRecords } from './events.js';
import type { ProgressSink } from './progress.js';

export interface ExportOptions {
  kafka: Kafka;
  logger: Logger;
  topic: string;
  file: string;
  consultation?: string;
  progress?: ProgressSink;
}

/**
 * Writes events as NDJSON, one event per line exactly as produced (with `sequence`, `previousHash`, `hash`),
 * each stream in sequence order, so an outside party can verify the chain (docs/audit-export.md).
 */
export async function exportEvents(options: ExportOptions): Promise<{ events: number; streams: number; ms: number }> {
  const started = Date.now();
  const handle = await open(options.file, 'w');
  const streams = new Set<string>();
  let events = 0;
  try {
    await readEventRecords({
      kafka: options.kafka,
      logger: options.logger,
      topic: options.topic,
      ...(options.consultation !== undefined ? { key: options.consultation } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      onRecords: async (records) => {
        const lines: string[] = [];
        for (const r of records) {
          if (r.value === null) continue;
          lines.push(oneLine(r.value));
          if (r.key) streams.add(r.key);
        }
        events += lines.length;
        if (lines.length > 0) await handle.write(`${lines.join('\n')}\n`);
      },
    });
  } finally {
    await handle.close();
  }
  return { events, streams: streams.size, ms: Date.now() - started };
}

/** Values are compact JSON; should one hold line breaks (whitespace), it is re-serialised onto one line. */
function oneLine(value: string): string {
  if (!/[\r\n]/.test(value)) return value;
  try {
    return JSON.stringify(JSON.parse(value));
  } catch {
    return JSON.stringify(value);
  }
}
