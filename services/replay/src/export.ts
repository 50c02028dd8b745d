import { open } from 'node:fs/promises';
import type { Logger } from '@consult/config';
import type { TopicNames } from '@consult/contracts';
import type { KafkaClient } from '@consult/kafka';
import { readEventRecords } from './events.js';
import type { ProgressSink } from './progress.js';

/** The hash-chained history topics an export can hold, by the name its lines give them (`stream`). */
export const EXPORT_STREAMS = ['consultation.events', 'cso.events'] as const;
export type ExportStream = (typeof EXPORT_STREAMS)[number];

/** One topic to export: its lines are named `stream`; only the events of `key` when given. */
export interface ExportSource {
  topic: string;
  stream: string;
  key?: string;
}

export interface ExportOptions {
  kafka: KafkaClient;
  logger: Logger;
  /** One topic (its stream named after the topic, e.g. `consultation.events`); or `sources`. */
  topic?: string;
  /** The topics to export, one after the other in this order, each line naming its stream. */
  sources?: readonly ExportSource[];
  file: string;
  /** With `topic`: only this stream (message key). */
  consultation?: string;
  progress?: ProgressSink;
}

/**
 * The audit export's sources: every consultation's events, then every organisation's (accreditation and
 * statements, with their attachment references). With `consultation`, only that consultation; with `cso`,
 * only that organisation's stream; with both, both.
 */
export function exportSources(topics: TopicNames, only: { consultation?: string; cso?: string } = {}): ExportSource[] {
  const consultations: ExportSource = { topic: topics.consultationEvents, stream: 'consultation.events', ...(only.consultation !== undefined ? { key: only.consultation } : {}) };
  const organisations: ExportSource = { topic: topics.csoEvents, stream: 'cso.events', ...(only.cso !== undefined ? { key: only.cso } : {}) };
  if (only.consultation === undefined && only.cso === undefined) return [consultations, organisations];
  return [...(only.consultation !== undefined ? [consultations] : []), ...(only.cso !== undefined ? [organisations] : [])];
}

/** The stream name of a topic: its unprefixed name when it is one of the export's, else the topic itself. */
export function streamOf(topic: string): string {
  return EXPORT_STREAMS.find((s) => topic.endsWith(s)) ?? topic;
}

/**
 * Writes events as NDJSON, one event per line as produced (with `sequence`, `previousHash`, `hash`) and the
 * name of its stream added in front (`"stream":"cso.events"`, not part of the hash), each stream in sequence
 * order, so an outside party can verify every chain (docs/audit-export.md).
 */
export async function exportEvents(options: ExportOptions): Promise<{ events: number; streams: number; ms: number }> {
  const started = Date.now();
  const sources: readonly ExportSource[] =
    options.sources ??
    (options.topic !== undefined
      ? [{ topic: options.topic, stream: streamOf(options.topic), ...(options.consultation !== undefined ? { key: options.consultation } : {}) }]
      : []);
  if (sources.length === 0) throw new Error('exportEvents: name a topic or sources');
  const handle = await open(options.file, 'w');
  const streams = new Set<string>();
  let events = 0;
  try {
    for (const source of sources)
      await readEventRecords({
        kafka: options.kafka,
        logger: options.logger,
        topic: source.topic,
        ...(source.key !== undefined ? { key: source.key } : {}),
        ...(options.progress ? { progress: options.progress } : {}),
        onRecords: async (records) => {
          const lines: string[] = [];
          for (const r of records) {
            if (r.value === null) continue;
            lines.push(named(source.stream, oneLine(r.value)));
            if (r.key) streams.add(`${source.stream} ${r.key}`);
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

/**
 * The line with its stream named first. The event's own bytes follow unchanged, so stripping `stream` gives
 * back the event exactly as hashed; a value that is not a JSON object is kept as a string under `value`.
 */
function named(stream: string, line: string): string {
  const prefix = `{"stream":${JSON.stringify(stream)}`;
  if (/^\{\s*"/.test(line) && isObject(line)) return `${prefix},${line.slice(1)}`;
  return `${prefix},"value":${JSON.stringify(line)}}`;
}

function isObject(line: string): boolean {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
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
