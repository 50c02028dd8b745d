import { chainHash } from '@consult/contracts';

/** One stored event and where it is: what the verifier reads (from Kafka, an export file, an array). */
export interface ChainRecord {
  topic: string;
  partition: number;
  offset: string;
  /** The Kafka message key (the stream id); the event's own `key` is used when absent. */
  key?: string | null;
  /** The event's JSON exactly as produced. */
  value: string | null;
}

export type ChainProblem = 'malformed' | 'sequence-gap' | 'sequence-out-of-order' | 'previous-hash-mismatch' | 'hash-mismatch';

/** The first link of a stream that does not hold: where it is, what was expected and what was found. */
export interface BrokenLink {
  stream: string;
  problem: ChainProblem;
  topic: string;
  partition: number;
  offset: string;
  sequence: number | null;
  expectedSequence: number;
  detail: string;
}

export interface ChainReport {
  events: number;
  streams: number;
  broken: BrokenLink[];
}

interface Head {
  sequence: number;
  hash: string;
}

/**
 * Checks hash-chained streams one event at a time (constant memory per stream): sequences run 1, 2, 3… with
 * no gap or reordering, each `previousHash` is the hash of the event before, and each `hash` is the chain
 * hash recomputed from the event as produced. Reports the first broken link per stream; a stream is not
 * checked further after it, since everything after a break is unanchored.
 */
export class ChainVerifier {
  private readonly heads = new Map<string, Head>();
  private readonly broken = new Map<string, BrokenLink>();
  private events = 0;

  add(record: ChainRecord): BrokenLink | null {
    this.events += 1;
    let event: Record<string, unknown>;
    try {
      const parsed: unknown = record.value === null ? null : JSON.parse(record.value);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      event = parsed as Record<string, unknown>;
    } catch {
      const stream = record.key ?? `${record.topic}/${record.partition}`;
      return this.fail(stream, record, null, (this.heads.get(stream)?.sequence ?? 0) + 1, 'malformed', 'not a JSON object');
    }
    const stream = record.key ?? (typeof event.key === 'string' ? event.key : `${record.topic}/${record.partition}`);
    if (this.broken.has(stream)) return null;
    const head = this.heads.get(stream);
    const expected = (head?.sequence ?? 0) + 1;
    const { sequence, previousHash, hash } = event;
    if (typeof sequence !== 'number' || !Number.isInteger(sequence) || typeof hash !== 'string' || (previousHash !== null && typeof previousHash !== 'string'))
      return this.fail(stream, record, null, expected, 'malformed', 'sequence, previousHash or hash missing or mistyped');
    if (sequence > expected)
      return this.fail(stream, record, sequence, expected, 'sequence-gap', `sequence ${sequence} follows ${expected - 1}`);
    if (sequence < expected)
      return this.fail(stream, record, sequence, expected, 'sequence-out-of-order', `sequence ${sequence} after ${expected - 1}`);
    const wantedPrevious = head?.hash ?? null;
    if (previousHash !== wantedPrevious)
      return this.fail(stream, record, sequence, expected, 'previous-hash-mismatch', `previousHash ${String(previousHash)} is not ${String(wantedPrevious)}`);
    const recomputed = chainHash(event, previousHash);
    if (recomputed !== hash)
      return this.fail(stream, record, sequence, expected, 'hash-mismatch', `hash ${hash} recomputes as ${recomputed}`);
    this.heads.set(stream, { sequence, hash });
    return null;
  }

  private fail(
    stream: string,
    record: ChainRecord,
    sequence: number | null,
    expectedSequence: number,
    problem: ChainProblem,
    detail: string,
  ): BrokenLink | null {
    if (this.broken.has(stream)) return null;
    const link: BrokenLink = { stream, problem, topic: record.topic, partition: record.partition, offset: record.offset, sequence, expectedSequence, detail };
    this.broken.set(stream, link);
    return link;
  }

  report(): ChainReport {
    const streams = new Set([...this.heads.keys(), ...this.broken.keys()]);
    return { events: this.events, streams: streams.size, broken: [...this.broken.values()] };
  }
}

/** Verifies records in the order given (per stream, the order they were stored in). */
export function verifyChains(records: Iterable<ChainRecord>): ChainReport {
  const verifier = new ChainVerifier();
  for (const record of records) verifier.add(record);
  return verifier.report();
}

export function formatBrokenLink(link: BrokenLink): string {
  return `BROKEN ${link.stream} ${link.problem} at ${link.topic}[${link.partition}]@${link.offset} sequence ${link.sequence ?? '?'} (expected ${link.expectedSequence}): ${link.detail}`;
}
