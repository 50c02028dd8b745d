/**
 * The record shapes the rest of the project reads and writes. They are this package's own, not kafkajs'
 * (which stays inside the package): kafkajs' records satisfy them as they are, so nothing is copied.
 */

/** Header values as stored: a header may repeat. */
export type RecordHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** A record as a consumer hands it over; offset and timestamp (ms since the epoch) are decimal strings. */
export interface ConsumedRecord {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp: string;
  headers?: RecordHeaders;
}

/** A record to produce; without `partition`, the key's murmur2 hash chooses it (PRODUCER_DEFAULTS). */
export interface ProducedRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: RecordHeaders;
  timestamp?: string;
}

/** Records for one topic. */
export interface TopicRecords {
  topic: string;
  messages: ProducedRecord[];
}
