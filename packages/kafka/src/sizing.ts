import type { ProducedRecord, TopicRecords } from './records.js';

/**
 * The broker refuses a record batch over `max.message.bytes` (1 MiB by default) and kafkajs sends each
 * partition's messages of one request as one batch. Requests are therefore cut well below that.
 */
export const MAX_REQUEST_BYTES = 768 * 1024;

/** An upper estimate of a message's size in a record batch (value, key, headers and per-record overhead). */
export function messageBytes(message: ProducedRecord): number {
  let size = 32;
  size += message.value === null || message.value === undefined ? 0 : Buffer.byteLength(message.value);
  size += message.key === null || message.key === undefined ? 0 : Buffer.byteLength(message.key);
  if (message.headers)
    for (const [name, value] of Object.entries(message.headers))
      size += name.length + (typeof value === 'string' || Buffer.isBuffer(value) ? Buffer.byteLength(value) : 16);
  return size;
}

/** Cuts topic messages into requests of at most `maxBytes` each (a single larger message goes alone). */
export function splitBySize(topicMessages: readonly TopicRecords[], maxBytes = MAX_REQUEST_BYTES): TopicRecords[][] {
  const requests: TopicRecords[][] = [];
  let current = new Map<string, ProducedRecord[]>();
  let bytes = 0;
  const flush = (): void => {
    if (current.size > 0) requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = 0;
  };
  for (const { topic, messages } of topicMessages) {
    for (const message of messages) {
      const size = messageBytes(message);
      if (bytes > 0 && bytes + size > maxBytes) flush();
      const list = current.get(topic);
      if (list) list.push(message);
      else current.set(topic, [message]);
      bytes += size;
    }
  }
  flush();
  return requests;
}
