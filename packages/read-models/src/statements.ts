import type { Actor, AttachmentRef, CsoContact, CsoEvent, StatementStatus } from '@consult/contracts';
import { csoStatusAt, type CsoStatus } from '@consult/domain';
import type { ChainableCommander, KeySpace, RedisClient as Redis } from '@consult/redis';
import { byScoreOfTags, CSO_TAGS, csoTagOf, pageOfTags } from './layout.js';

export interface CsoView {
  id: string;
  name: string;
  linkBody: string;
  accreditedUntil: string;
  contact: CsoContact;
  /** Computed at read time: 'lapsed' once accreditedUntil has passed. */
  status: CsoStatus;
  accreditedAt: string;
  renewals: number;
  revokedAt?: string;
  revocationReason?: string;
  version: number;
}

export interface StatementTransition {
  status: StatementStatus;
  at: string;
  actor: Actor;
  note?: string;
  reasons?: string;
}

/** A named co-signer and where it stands: who signed when (or declined, and why). */
export interface CoSignerView {
  csoId: string;
  status: 'pending' | 'confirmed' | 'declined';
  at?: string;
  reason?: string;
  /** Computed at read time for a pending co-signer whose accreditation lapsed or was revoked. */
  blocked?: string;
}

export interface StatementView {
  statementId: string;
  trackingNumber: string;
  csoId: string;
  subject: string;
  body: string;
  language: string;
  relatesTo?: string;
  receivedAt: string;
  status: StatementStatus;
  lastChangedAt: string;
  forwardingNote?: string;
  returnReasons?: string;
  history: StatementTransition[];
  coSigners?: CoSignerView[];
  /** Files attached at submission (references; download under …/attachments/{digest}). */
  attachments?: AttachmentRef[];
}

/** Which statements a list reads: one index per audience, each scored by receipt time. */
export type StatementIndex =
  | { kind: 'all' }
  | { kind: 'cso'; csoId: string }
  /** submitted and under-review: the secretariat's queue */
  | { kind: 'review' }
  /** forwarded and acknowledged: what the Standing Committee sees */
  | { kind: 'committee' };

interface CsoDoc {
  name: string;
  linkBody: string;
  contact: CsoContact;
  accreditedAt: string;
}

/**
 * The Redis layout of CSOs and their statements, beside (not inside) the consultation read model. Written by the
 * projector (appends to a MULTI, no reads), read by the gateway; derived from `cso.events` and rebuilt after a flush.
 */
export class CsoReadModel {
  constructor(readonly keys: KeySpace) {}

  /** The key under which the projector announces a CSO stream's version (distinct from consultation ids). */
  static streamKey(csoId: string): string {
    return `cso:${csoId}`;
  }

  // Keys carry the hash tag of their CSO stream's partition (`layout.ts`): an organisation, its statements
  // (under the lead organisation's tag) and their entries in the indexes, which are kept one per tag and merged
  // on read. A statement is found by id in every tag.
  private cso(id: string): string {
    return this.keys.tagged(csoTagOf(id), 'cso', id);
  }
  private csoIndex(tag: string): string {
    return this.keys.tagged(tag, 'cso', 'index', 'all');
  }
  private statement(tag: string, id: string): string {
    return this.keys.tagged(tag, 'stmt', id);
  }
  private history(tag: string, id: string): string {
    return this.keys.tagged(tag, 'stmt', id, 'history');
  }
  /** co-signer id → JSON of its CoSignerView (without `blocked`); the order is in the statement's `coSignerOrder`. */
  private coSigners(tag: string, id: string): string {
    return this.keys.tagged(tag, 'stmt', id, 'cosigners');
  }
  /** Every event of a CSO stream as produced (JSON), in sequence order: statements' audit history. */
  private streamHistory(csoId: string): string {
    return this.keys.tagged(csoTagOf(csoId), 'cso', csoId, 'history');
  }
  private index(tag: string, index: StatementIndex): string {
    return index.kind === 'cso' ? this.keys.tagged(tag, 'stmt', 'index', 'cso', index.csoId) : this.keys.tagged(tag, 'stmt', 'index', index.kind);
  }

  // ---- writes (projector) ----

  /**
   * `raw` is the event's JSON exactly as produced (the Kafka message value), kept in the stream's history so its
   * hash chain verifies on the bytes the writer chained; without it the decoded event is serialised.
   */
  applyEvent(multi: ChainableCommander, event: CsoEvent, raw?: string): void {
    const csoId = event.key;
    const key = this.cso(csoId);
    const tag = csoTagOf(csoId);
    multi.rpush(this.streamHistory(csoId), raw ?? JSON.stringify(event));
    const statementId = (event.data as { statementId?: unknown }).statementId;
    // A statement's history runs up to its latest event in its organisation's stream.
    if (typeof statementId === 'string' && event.type.startsWith('cso.statement-'))
      multi.hset(this.statement(tag, statementId), { lastSequence: event.sequence });
    const transition = (statementId: string, status: StatementStatus, at: string, extra: Partial<StatementTransition> = {}): void => {
      multi.hset(this.statement(tag, statementId), { status, lastChangedAt: at });
      multi.rpush(this.history(tag, statementId), JSON.stringify({ status, at, actor: event.actor, ...extra }));
    };
    switch (event.type) {
      case 'cso.accredited': {
        const d = event.data;
        const doc: CsoDoc = { name: d.name, linkBody: d.linkBody, contact: d.contact, accreditedAt: d.accreditedAt };
        multi.hset(key, { doc: JSON.stringify(doc), accreditedUntil: d.accreditedUntil, revokedAt: '', revocationReason: '', renewals: 0 });
        multi.zadd(this.csoIndex(tag), Date.parse(d.accreditedAt), csoId);
        break;
      }
      case 'cso.accreditation-renewed':
        multi.hset(key, { accreditedUntil: event.data.accreditedUntil });
        multi.hincrby(key, 'renewals', 1);
        break;
      case 'cso.accreditation-revoked':
        multi.hset(key, { revokedAt: event.data.revokedAt, revocationReason: event.data.reason });
        break;
      case 'cso.statement-submitted': {
        const d = event.data;
        const score = Date.parse(d.receivedAt);
        const coSigners = d.coSigners ?? [];
        const status: StatementStatus = coSigners.length > 0 ? 'awaiting-co-signatures' : 'submitted';
        if (coSigners.length > 0) {
          multi.hset(this.statement(tag, d.statementId), { coSignerOrder: JSON.stringify(coSigners) });
          for (const id of coSigners) {
            multi.hset(this.coSigners(tag, d.statementId), id, JSON.stringify({ csoId: id, status: 'pending' }));
            // Co-signers list the statements they are asked to sign beside their own.
            multi.zadd(this.index(tag, { kind: 'cso', csoId: id }), score, d.statementId);
          }
        }
        multi.hset(this.statement(tag, d.statementId), {
          statementId: d.statementId,
          trackingNumber: d.trackingNumber,
          csoId,
          subject: d.subject,
          body: d.body,
          language: d.language,
          relatesTo: d.relatesTo ?? '',
          receivedAt: d.receivedAt,
          status,
          lastChangedAt: d.receivedAt,
          ...(d.attachments !== undefined ? { attachments: JSON.stringify(d.attachments) } : {}),
        });
        multi.rpush(this.history(tag, d.statementId), JSON.stringify({ status, at: d.receivedAt, actor: event.actor }));
        multi.zadd(this.index(tag, { kind: 'all' }), score, d.statementId);
        multi.zadd(this.index(tag, { kind: 'cso', csoId }), score, d.statementId);
        // A statement with co-signers enters the review queue with its last confirmation.
        if (coSigners.length === 0) multi.zadd(this.index(tag, { kind: 'review' }), score, d.statementId);
        break;
      }
      case 'cso.statement-co-signed': {
        const d = event.data;
        multi.hset(this.coSigners(tag, d.statementId), d.coSignerId, JSON.stringify({ csoId: d.coSignerId, status: 'confirmed', at: d.coSignedAt }));
        if (d.awaiting.length === 0) {
          transition(d.statementId, 'submitted', d.receivedAt);
          multi.zadd(this.index(tag, { kind: 'review' }), Date.parse(d.receivedAt), d.statementId);
        }
        break;
      }
      case 'cso.statement-co-signing-declined': {
        const d = event.data;
        const view: CoSignerView = { csoId: d.coSignerId, status: 'declined', at: d.declinedAt };
        if (d.reason !== undefined) view.reason = d.reason;
        multi.hset(this.coSigners(tag, d.statementId), d.coSignerId, JSON.stringify(view));
        transition(d.statementId, 'co-signing-declined', d.receivedAt, d.reason !== undefined ? { reasons: d.reason } : {});
        break;
      }
      case 'cso.co-signature-given':
      case 'cso.co-signature-refused':
        // Recorded on the statement by the lead's stream (cso.statement-co-signed / -co-signing-declined).
        break;
      case 'cso.statement-review-started':
        transition(event.data.statementId, 'under-review', event.data.receivedAt);
        break;
      case 'cso.statement-forwarded': {
        const d = event.data;
        transition(d.statementId, 'forwarded', d.receivedAt, d.note !== undefined ? { note: d.note } : {});
        if (d.note !== undefined) multi.hset(this.statement(tag, d.statementId), { forwardingNote: d.note });
        multi.zrem(this.index(tag, { kind: 'review' }), d.statementId);
        // Scored by forwarding time: the committee reads what reached it in that order.
        multi.zadd(this.index(tag, { kind: 'committee' }), Date.parse(d.receivedAt), d.statementId);
        break;
      }
      case 'cso.statement-returned': {
        const d = event.data;
        transition(d.statementId, 'returned', d.receivedAt, { reasons: d.reasons });
        multi.hset(this.statement(tag, d.statementId), { returnReasons: d.reasons });
        multi.zrem(this.index(tag, { kind: 'review' }), d.statementId);
        break;
      }
      case 'cso.statement-acknowledged':
        transition(event.data.statementId, 'acknowledged', event.data.receivedAt);
        break;
    }
    multi.hset(key, { version: event.sequence });
  }

  // ---- reads (gateway) ----

  async get(redis: Redis, id: string, now: string): Promise<CsoView | null> {
    const fields = await redis.hgetall(this.cso(id));
    if (!fields.doc) return null;
    const doc = JSON.parse(fields.doc) as CsoDoc;
    const accreditedUntil = fields.accreditedUntil ?? '';
    const view: CsoView = {
      id,
      name: doc.name,
      linkBody: doc.linkBody,
      accreditedUntil,
      contact: doc.contact,
      status: csoStatusAt({ revoked: Boolean(fields.revokedAt), accreditedUntil }, now),
      accreditedAt: doc.accreditedAt,
      renewals: Number(fields.renewals ?? 0),
      version: Number(fields.version ?? 0),
    };
    if (fields.revokedAt) view.revokedAt = fields.revokedAt;
    if (fields.revocationReason) view.revocationReason = fields.revocationReason;
    return view;
  }

  async list(redis: Redis, now: string, page: { offset: number; limit: number }): Promise<{ items: CsoView[]; total: number }> {
    const { entries, total } = await pageOfTags(redis, CSO_TAGS, (tag) => this.csoIndex(tag), 'asc', page);
    const views = await Promise.all(entries.map((e) => this.get(redis, e.member, now)));
    return { items: views.filter((v): v is CsoView => v !== null), total };
  }

  async versionOf(redis: Redis, csoId: string): Promise<number> {
    return Number((await redis.hget(this.cso(csoId), 'version')) ?? 0);
  }

  /** The tag a statement is kept under (its lead organisation's), looked for in every tag; null if unknown. */
  private async tagOfStatement(redis: Redis, statementId: string): Promise<string | null> {
    const found = await Promise.all(CSO_TAGS.map((tag) => redis.hexists(this.statement(tag, statementId), 'statementId')));
    const at = found.indexOf(1);
    return at < 0 ? null : CSO_TAGS[at]!;
  }

  async statementById(redis: Redis, statementId: string): Promise<StatementView | null> {
    const tag = await this.tagOfStatement(redis, statementId);
    return tag === null ? null : this.statementIn(redis, tag, statementId);
  }

  private async statementIn(redis: Redis, tag: string, statementId: string): Promise<StatementView | null> {
    const [[, fields], [, history], [, coSigners]] = (await redis
      .multi()
      .hgetall(this.statement(tag, statementId))
      .lrange(this.history(tag, statementId), 0, -1)
      .hgetall(this.coSigners(tag, statementId))
      .exec()) as [[unknown, Record<string, string>], [unknown, string[]], [unknown, Record<string, string>]];
    if (!fields.statementId) return null;
    const view: StatementView = {
      statementId: fields.statementId,
      trackingNumber: fields.trackingNumber ?? '',
      csoId: fields.csoId ?? '',
      subject: fields.subject ?? '',
      body: fields.body ?? '',
      language: fields.language ?? '',
      receivedAt: fields.receivedAt ?? '',
      status: (fields.status ?? 'submitted') as StatementStatus,
      lastChangedAt: fields.lastChangedAt ?? '',
      history: history.map((h) => JSON.parse(h) as StatementTransition),
    };
    if (fields.relatesTo) view.relatesTo = fields.relatesTo;
    if (fields.forwardingNote) view.forwardingNote = fields.forwardingNote;
    if (fields.returnReasons) view.returnReasons = fields.returnReasons;
    if (fields.attachments) view.attachments = JSON.parse(fields.attachments) as AttachmentRef[];
    if (fields.coSignerOrder)
      view.coSigners = (JSON.parse(fields.coSignerOrder) as string[]).map(
        (id) => (coSigners[id] ? (JSON.parse(coSigners[id]) as CoSignerView) : { csoId: id, status: 'pending' }),
      );
    return view;
  }

  /** The sequence of a statement's latest event in its organisation's stream (0 if unknown). */
  async lastSequenceOf(redis: Redis, statementId: string): Promise<number> {
    const values = await Promise.all(CSO_TAGS.map((tag) => redis.hget(this.statement(tag, statementId), 'lastSequence')));
    return Number(values.find((v) => v !== null) ?? 0);
  }

  /**
   * Events of a CSO stream with a sequence above `after` and at most `upTo`, in sequence order, as produced
   * (JSON text). The list holds sequence n at index n-1; should it ever hold anything else (a broken chain),
   * the whole list is read and filtered instead.
   */
  async streamHistoryPage(redis: Redis, csoId: string, options: { after: number; limit: number; upTo: number }): Promise<string[]> {
    const end = Math.min(options.after + options.limit, options.upTo);
    if (end <= options.after) return [];
    const page = await redis.lrange(this.streamHistory(csoId), options.after, end - 1);
    const sequenceOf = (raw: string): number => Number((JSON.parse(raw) as { sequence?: unknown }).sequence);
    if (page.every((raw, i) => sequenceOf(raw) === options.after + i + 1)) return page;
    const all = await redis.lrange(this.streamHistory(csoId), 0, -1);
    return all.filter((raw) => sequenceOf(raw) > options.after && sequenceOf(raw) <= options.upTo).slice(0, options.limit);
  }

  /** The whole history of a CSO stream, as produced (JSON text). */
  async fullStreamHistory(redis: Redis, csoId: string): Promise<string[]> {
    return redis.lrange(this.streamHistory(csoId), 0, -1);
  }

  /** Every statement received in [fromMs, toMs), with its transitions, oldest first (reports). */
  async statementsReceivedBetween(redis: Redis, fromMs: number, toMs: number): Promise<StatementView[]> {
    const entries = await byScoreOfTags(redis, CSO_TAGS, (tag) => this.index(tag, { kind: 'all' }), fromMs, toMs);
    const views = await Promise.all(entries.map((e) => this.statementIn(redis, e.tag, e.member)));
    return views.filter((v): v is StatementView => v !== null);
  }

  /** A page of statements from one index, oldest first or newest first. */
  async statements(
    redis: Redis,
    index: StatementIndex,
    page: { offset: number; limit: number; order: 'oldest' | 'newest' },
  ): Promise<{ items: StatementView[]; total: number }> {
    const { entries, total } = await pageOfTags(redis, CSO_TAGS, (tag) => this.index(tag, index), page.order === 'oldest' ? 'asc' : 'desc', page);
    const views = await Promise.all(entries.map((e) => this.statementIn(redis, e.tag, e.member)));
    return { items: views.filter((v): v is StatementView => v !== null), total };
  }
}
