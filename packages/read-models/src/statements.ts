import type { Actor, CsoContact, CsoEvent, StatementStatus } from '@consult/contracts';
import { csoStatusAt, type CsoStatus } from '@consult/domain';
import type { ChainableCommander, KeySpace, Redis } from '@consult/redis';

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

  private cso(id: string): string {
    return this.keys.key('cso', id);
  }
  private csoIndex(): string {
    return this.keys.key('cso', 'index', 'all');
  }
  private statement(id: string): string {
    return this.keys.key('stmt', id);
  }
  private history(id: string): string {
    return this.keys.key('stmt', id, 'history');
  }
  private index(index: StatementIndex): string {
    return index.kind === 'cso' ? this.keys.key('stmt', 'index', 'cso', index.csoId) : this.keys.key('stmt', 'index', index.kind);
  }

  // ---- writes (projector) ----

  applyEvent(multi: ChainableCommander, event: CsoEvent): void {
    const csoId = event.key;
    const key = this.cso(csoId);
    const transition = (statementId: string, status: StatementStatus, at: string, extra: Partial<StatementTransition> = {}): void => {
      multi.hset(this.statement(statementId), { status, lastChangedAt: at });
      multi.rpush(this.history(statementId), JSON.stringify({ status, at, actor: event.actor, ...extra }));
    };
    switch (event.type) {
      case 'cso.accredited': {
        const d = event.data;
        const doc: CsoDoc = { name: d.name, linkBody: d.linkBody, contact: d.contact, accreditedAt: d.accreditedAt };
        multi.hset(key, { doc: JSON.stringify(doc), accreditedUntil: d.accreditedUntil, revokedAt: '', revocationReason: '', renewals: 0 });
        multi.zadd(this.csoIndex(), Date.parse(d.accreditedAt), csoId);
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
        multi.hset(this.statement(d.statementId), {
          statementId: d.statementId,
          trackingNumber: d.trackingNumber,
          csoId,
          subject: d.subject,
          body: d.body,
          language: d.language,
          relatesTo: d.relatesTo ?? '',
          receivedAt: d.receivedAt,
          status: 'submitted',
          lastChangedAt: d.receivedAt,
        });
        multi.rpush(this.history(d.statementId), JSON.stringify({ status: 'submitted', at: d.receivedAt, actor: event.actor }));
        multi.zadd(this.index({ kind: 'all' }), score, d.statementId);
        multi.zadd(this.index({ kind: 'cso', csoId }), score, d.statementId);
        multi.zadd(this.index({ kind: 'review' }), score, d.statementId);
        break;
      }
      case 'cso.statement-review-started':
        transition(event.data.statementId, 'under-review', event.data.receivedAt);
        break;
      case 'cso.statement-forwarded': {
        const d = event.data;
        transition(d.statementId, 'forwarded', d.receivedAt, d.note !== undefined ? { note: d.note } : {});
        if (d.note !== undefined) multi.hset(this.statement(d.statementId), { forwardingNote: d.note });
        multi.zrem(this.index({ kind: 'review' }), d.statementId);
        // Scored by forwarding time: the committee reads what reached it in that order.
        multi.zadd(this.index({ kind: 'committee' }), Date.parse(d.receivedAt), d.statementId);
        break;
      }
      case 'cso.statement-returned': {
        const d = event.data;
        transition(d.statementId, 'returned', d.receivedAt, { reasons: d.reasons });
        multi.hset(this.statement(d.statementId), { returnReasons: d.reasons });
        multi.zrem(this.index({ kind: 'review' }), d.statementId);
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
    const [ids, total] = await Promise.all([
      redis.zrange(this.csoIndex(), page.offset, page.offset + page.limit - 1),
      redis.zcard(this.csoIndex()),
    ]);
    const views = await Promise.all(ids.map((id) => this.get(redis, id, now)));
    return { items: views.filter((v): v is CsoView => v !== null), total };
  }

  async versionOf(redis: Redis, csoId: string): Promise<number> {
    return Number((await redis.hget(this.cso(csoId), 'version')) ?? 0);
  }

  async statementById(redis: Redis, statementId: string): Promise<StatementView | null> {
    const [[, fields], [, history]] = (await redis
      .multi()
      .hgetall(this.statement(statementId))
      .lrange(this.history(statementId), 0, -1)
      .exec()) as [[unknown, Record<string, string>], [unknown, string[]]];
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
    return view;
  }

  /** Every statement received in [fromMs, toMs), with its transitions, oldest first (reports). */
  async statementsReceivedBetween(redis: Redis, fromMs: number, toMs: number): Promise<StatementView[]> {
    const ids = await redis.zrangebyscore(this.index({ kind: 'all' }), fromMs, `(${toMs}`);
    const views = await Promise.all(ids.map((id) => this.statementById(redis, id)));
    return views.filter((v): v is StatementView => v !== null);
  }

  /** A page of statements from one index, oldest first or newest first. */
  async statements(
    redis: Redis,
    index: StatementIndex,
    page: { offset: number; limit: number; order: 'oldest' | 'newest' },
  ): Promise<{ items: StatementView[]; total: number }> {
    const key = this.index(index);
    const end = page.offset + page.limit - 1;
    const [ids, total] = await Promise.all([
      page.order === 'oldest' ? redis.zrange(key, page.offset, end) : redis.zrevrange(key, page.offset, end),
      redis.zcard(key),
    ]);
    const views = await Promise.all(ids.map((id) => this.statementById(redis, id)));
    return { items: views.filter((v): v is StatementView => v !== null), total };
  }
}
