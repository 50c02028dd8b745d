import type { AttachmentRef, CommandOutcome, ConsultationDocument, ConsultationEvent, IdentityEvent, Procedure, SilenceBreak } from '@consult/contracts';
import { buildView, withOriginalMarked, zonesFor, type ConsultationView, type DocumentVersion } from '@consult/domain';
import type { ChainableCommander, KeySpace, RedisClient as Redis } from '@consult/redis';
import { byScoreOfTags, compareRanked, CONSULTATION_TAGS, consultationTagOf, CSO_TAGS, IDENTITY_TAG, pageOfTags, withScores, type Ranked } from './layout.js';

const OUTCOME_TTL_SECONDS = 7 * 86_400;

export interface CommentRevision {
  revision: number;
  body: string;
  language: string;
  receivedAt: string;
  /** The document version in force when this revision was received. */
  documentVersion?: number;
}

export interface CommentView {
  commentId: string;
  consultationId: string;
  trackingNumber: string;
  memberState: string;
  body: string;
  language: string;
  receivedAt: string;
  revision: number;
  status: 'active' | 'withdrawn';
  lastChangedAt: string;
  withdrawnAt?: string;
  /** The document version the comment (its latest revision) answered. */
  documentVersion: number;
  revisions: CommentRevision[];
  /** Files attached when it was submitted (references; download under …/attachments/{digest}). */
  attachments?: AttachmentRef[];
}

export interface Principal {
  kind: 'secretariat' | 'member-state' | 'cso' | 'standing-committee' | 'auditor' | 'system';
  id: string;
  name?: string;
  keyId: string;
}

/** What the key directory knows of a key: its principal, and whether it was revoked or when it expires. */
export interface ApiKeyRecord {
  principal: Principal;
  revokedAt?: string;
  expiresAt?: string;
}

interface StaticDoc {
  id: string;
  reference: string;
  title: string;
  summary?: string;
  documents: ConsultationDocument[];
  addressees: string[];
  commentVisibility: 'own' | 'addressees';
  reminderOffsetsSeconds: number[];
  openedAt: string;
  procedure?: Procedure;
  timeZones?: Record<string, string>;
  secretariatTimeZone?: string;
}

/**
 * The Redis layout of consultations, comments, command outcomes and API keys. The projector appends each
 * event's effects to a MULTI without reading (so a batch is one round trip); the gateway reads. Everything
 * here is derived from Kafka and can be deleted and rebuilt.
 *
 * Keys carry the hash tag of their Kafka partition (`layout.ts`): a consultation's keys, its comments and its
 * entries in the status and addressee indexes are under `{c<n>}` (n = the consultation's partition); the
 * indexes are therefore one per tag, merged on read. Outcomes are under the tag of the partition they were
 * read from; API keys under `{i0}`.
 */
export class ConsultationReadModel {
  constructor(readonly keys: KeySpace) {}

  /** A key of consultation `id`, under its partition's tag. */
  private of(id: string, ...parts: string[]): string {
    return this.keys.tagged(consultationTagOf(id), 'cons', id, ...parts);
  }
  private consultation(id: string): string {
    return this.of(id);
  }
  private active(id: string): string {
    return this.of(id, 'active');
  }
  /** Nil returns in force: member state → when received. */
  private nilReturns(id: string): string {
    return this.of(id, 'nil');
  }
  /** Breaks of silence that count, as JSON, first first. */
  private silenceBreaks(id: string): string {
    return this.of(id, 'silence');
  }
  /** Document versions (original, corrigenda, revisions) as JSON, in order. */
  private documentVersions(id: string): string {
    return this.of(id, 'versions');
  }
  private commentIndex(id: string, memberState?: string): string {
    return memberState ? this.of(id, 'comments', memberState) : this.of(id, 'comments');
  }
  /** A comment, under its consultation's tag. */
  private comment(consultationId: string, commentId: string): string {
    return this.keys.tagged(consultationTagOf(consultationId), 'comment', commentId);
  }
  private revisions(consultationId: string, commentId: string): string {
    return this.keys.tagged(consultationTagOf(consultationId), 'comment', commentId, 'revisions');
  }
  /** Every event of a consultation, as produced (JSON), in sequence order: the audit history. */
  private history(id: string): string {
    return this.of(id, 'history');
  }
  /** The consultations of one tag by status (open: by deadline; closed: by closing; all: by opening). */
  private statusIndex(tag: string, status: 'open' | 'closed' | 'all'): string {
    return this.keys.tagged(tag, 'cons', 'index', status);
  }
  /** The consultations of one tag addressed to one member state, by opening time: what it may list and count. */
  private addresseeIndex(tag: string, memberState: string): string {
    return this.keys.tagged(tag, 'cons', 'index', 'addressee', memberState);
  }
  private outcomeKey(tag: string, commandId: string): string {
    return this.keys.tagged(tag, 'outcome', commandId);
  }
  private apiKey(keyHash: string): string {
    return this.keys.tagged(IDENTITY_TAG, 'apikey', keyHash);
  }
  /** Channel on which the projector announces `[[consultationId, version], ...]` after each applied batch. */
  get projectedChannel(): string {
    return this.keys.key('projected');
  }

  // ---- writes (projector) ----

  /**
   * `raw` is the event's JSON exactly as produced (the Kafka message value), kept in the history list so its
   * hash chain still verifies; without it the decoded event is serialised.
   */
  applyEvent(multi: ChainableCommander, event: ConsultationEvent, raw?: string): void {
    const id = event.key;
    const key = this.consultation(id);
    const tag = consultationTagOf(id);
    multi.rpush(this.history(id), raw ?? JSON.stringify(event));
    switch (event.type) {
      case 'consultation.opened': {
        const d = event.data;
        const doc: StaticDoc = {
          id,
          reference: d.reference,
          title: d.title,
          documents: d.documents,
          addressees: d.addressees,
          commentVisibility: d.commentVisibility,
          reminderOffsetsSeconds: d.reminderOffsetsSeconds,
          openedAt: d.openedAt,
          procedure: d.procedure ?? 'comments',
          timeZones: d.timeZones ?? zonesFor(d.addressees),
        };
        if (d.summary !== undefined) doc.summary = d.summary;
        if (d.secretariatTimeZone !== undefined) doc.secretariatTimeZone = d.secretariatTimeZone;
        const original: DocumentVersion = {
          version: 1,
          kind: 'original',
          number: 0,
          symbol: d.reference,
          documents: withOriginalMarked(d.documents),
          issuedAt: d.openedAt,
          resetsDeadline: false,
          resetsSilence: false,
        };
        multi.rpush(this.documentVersions(id), JSON.stringify(original));
        multi.hset(key, { doc: JSON.stringify(doc), status: 'open', deadline: d.deadline, closedAt: '', extensions: 0 });
        multi.zadd(this.statusIndex(tag, 'open'), Date.parse(d.deadline), id);
        multi.zadd(this.statusIndex(tag, 'all'), Date.parse(d.openedAt), id);
        for (const memberState of d.addressees) multi.zadd(this.addresseeIndex(tag, memberState), Date.parse(d.openedAt), id);
        break;
      }
      case 'consultation.comment-submitted': {
        const d = event.data;
        multi.hset(this.comment(id, d.commentId), {
          commentId: d.commentId,
          consultationId: id,
          trackingNumber: d.trackingNumber,
          memberState: d.memberState,
          body: d.body,
          language: d.language,
          receivedAt: d.receivedAt,
          revision: 1,
          status: 'active',
          lastChangedAt: d.receivedAt,
          documentVersion: d.documentVersion ?? 1,
          ...(d.attachments !== undefined ? { attachments: JSON.stringify(d.attachments) } : {}),
        });
        multi.rpush(
          this.revisions(id, d.commentId),
          JSON.stringify({ revision: 1, body: d.body, language: d.language, receivedAt: d.receivedAt, documentVersion: d.documentVersion ?? 1 }),
        );
        // A comment replaces a nil return.
        multi.hdel(this.nilReturns(id), d.memberState);
        multi.zadd(this.commentIndex(id), event.sequence, d.commentId);
        multi.zadd(this.commentIndex(id, d.memberState), event.sequence, d.commentId);
        multi.hincrby(this.active(id), d.memberState, 1);
        break;
      }
      case 'consultation.comment-amended': {
        const d = event.data;
        multi.hset(this.comment(id, d.commentId), {
          body: d.body,
          language: d.language,
          revision: d.revision,
          lastChangedAt: d.receivedAt,
          ...(d.documentVersion !== undefined ? { documentVersion: d.documentVersion } : {}),
        });
        multi.rpush(
          this.revisions(id, d.commentId),
          JSON.stringify({
            revision: d.revision,
            body: d.body,
            language: d.language,
            receivedAt: d.receivedAt,
            ...(d.documentVersion !== undefined ? { documentVersion: d.documentVersion } : {}),
          }),
        );
        break;
      }
      case 'consultation.comment-withdrawn': {
        const d = event.data;
        multi.hset(this.comment(id, d.commentId), { status: 'withdrawn', withdrawnAt: d.receivedAt, lastChangedAt: d.receivedAt });
        multi.hincrby(this.active(id), d.memberState, -1);
        break;
      }
      case 'consultation.deadline-extended':
        multi.hset(key, { deadline: event.data.deadline });
        multi.hincrby(key, 'extensions', 1);
        multi.zadd(this.statusIndex(tag, 'open'), Date.parse(event.data.deadline), id);
        break;
      case 'consultation.closed':
        multi.hset(key, { status: 'closed', closedAt: event.data.closedAt });
        if (event.data.silence) multi.hset(key, { silenceOutcome: event.data.silence.outcome });
        multi.zrem(this.statusIndex(tag, 'open'), id);
        multi.zadd(this.statusIndex(tag, 'closed'), Date.parse(event.data.closedAt), id);
        break;
      case 'consultation.no-comments-submitted':
        multi.hset(this.nilReturns(id), event.data.memberState, event.data.receivedAt);
        break;
      case 'consultation.silence-broken': {
        const { memberState, reason, receivedAt } = event.data;
        multi.rpush(this.silenceBreaks(id), JSON.stringify({ memberState, reason, receivedAt }));
        break;
      }
      case 'consultation.silence-outcome-revised':
        // An on-time break processed after the closing: the outcome in force is the revision's (its break is
        // already in the list, from the silence-broken event of the same decision).
        multi.hset(key, { silenceOutcome: event.data.outcome });
        break;
      case 'consultation.document-version-issued': {
        const d = event.data;
        const version: DocumentVersion = {
          version: d.version,
          kind: d.kind,
          number: d.number,
          symbol: d.symbol,
          documents: withOriginalMarked(d.documents),
          issuedAt: d.issuedAt,
          resetsDeadline: d.resetsDeadline,
          resetsSilence: d.resetsSilence,
          ...(d.note !== undefined ? { note: d.note } : {}),
        };
        multi.rpush(this.documentVersions(id), JSON.stringify(version));
        if (d.resetsSilence) multi.del(this.silenceBreaks(id));
        break;
      }
    }
    multi.hset(key, { version: event.sequence });
  }

  /** `tag`: that of the partition the outcome was read from (`projectorOffsetLayout`). */
  applyOutcome(multi: ChainableCommander, outcome: CommandOutcome, tag: string): void {
    multi.set(this.outcomeKey(tag, outcome.commandId), JSON.stringify(outcome), 'EX', OUTCOME_TTL_SECONDS);
  }

  applyIdentity(multi: ChainableCommander, event: IdentityEvent): void {
    if (event.type === 'identity.api-key-issued') {
      const principal: Principal = { ...event.data.principal, keyId: event.data.keyId };
      multi.set(this.apiKey(event.data.keyHash), JSON.stringify(principal));
      if (event.data.expiresAt) multi.set(this.apiKeyField(event.data.keyHash, 'expires'), event.data.expiresAt);
    } else if (event.type === 'identity.api-key-expiry-set') {
      multi.set(this.apiKeyField(event.data.keyHash, 'expires'), event.data.expiresAt);
    } else {
      // The principal is kept beside the mark, so a revoked key is told apart from an unknown one
      // (a revoked CSO posting a statement is told its accreditation is gone, not that it is unknown).
      multi.set(this.apiKeyField(event.data.keyHash, 'revoked'), event.data.revokedAt);
    }
  }

  private apiKeyField(keyHash: string, field: 'revoked' | 'expires'): string {
    return this.keys.tagged(IDENTITY_TAG, 'apikey', keyHash, field);
  }

  /** The key's record, revoked and expired ones included (the gateway tells them apart); null if unknown. */
  async apiKeyRecord(redis: Redis, keyHash: string): Promise<ApiKeyRecord | null> {
    const [raw, revokedAt, expiresAt] = await redis.mget(this.apiKey(keyHash), this.apiKeyField(keyHash, 'revoked'), this.apiKeyField(keyHash, 'expires'));
    if (!raw) return null;
    return { principal: JSON.parse(raw) as Principal, ...(revokedAt ? { revokedAt } : {}), ...(expiresAt ? { expiresAt } : {}) };
  }

  // ---- reads (gateway, audit) ----

  /** The view, built by the domain's `buildView` from the same parts its replay uses. */
  async get(redis: Redis, id: string): Promise<ConsultationView | null> {
    const [[, fields], [, active], [, nil], [, breaks], [, versions]] = (await redis
      .multi()
      .hgetall(this.consultation(id))
      .hgetall(this.active(id))
      .hgetall(this.nilReturns(id))
      .lrange(this.silenceBreaks(id), 0, -1)
      .lrange(this.documentVersions(id), 0, -1)
      .exec()) as [
      [unknown, Record<string, string>],
      [unknown, Record<string, string>],
      [unknown, Record<string, string>],
      [unknown, string[]],
      [unknown, string[]],
    ];
    if (!fields.doc) return null;
    const doc = JSON.parse(fields.doc) as StaticDoc;
    const documentVersions = versions.map((v) => JSON.parse(v) as DocumentVersion);
    if (documentVersions.length === 0)
      documentVersions.push({
        version: 1,
        kind: 'original',
        number: 0,
        symbol: doc.reference,
        documents: withOriginalMarked(doc.documents),
        issuedAt: doc.openedAt,
        resetsDeadline: false,
        resetsSilence: false,
      });
    const outcome = fields.silenceOutcome;
    return buildView({
      id,
      reference: doc.reference,
      title: doc.title,
      summary: doc.summary,
      addressees: doc.addressees,
      commentVisibility: doc.commentVisibility,
      reminderOffsetsSeconds: doc.reminderOffsetsSeconds,
      openedAt: doc.openedAt,
      deadline: fields.deadline ?? '',
      status: fields.status === 'closed' ? 'closed' : 'open',
      closedAt: fields.closedAt ? fields.closedAt : null,
      deadlineExtensions: Number(fields.extensions ?? 0),
      version: Number(fields.version ?? 0),
      procedure: doc.procedure ?? 'comments',
      timeZones: doc.timeZones ?? zonesFor(doc.addressees),
      secretariatTimeZone: doc.secretariatTimeZone,
      documentVersions,
      activeComments: (code) => Number(active[code] ?? 0),
      hasNilReturn: (code) => nil[code] !== undefined,
      silenceBreaks: breaks.map((b) => JSON.parse(b) as SilenceBreak),
      silenceOutcome: outcome === 'deemed-adopted' || outcome === 'silence-broken' ? outcome : null,
    });
  }

  async list(
    redis: Redis,
    status: 'open' | 'closed' | undefined,
    page: { offset: number; limit: number },
  ): Promise<{ items: ConsultationView[]; total: number }> {
    const { entries, total } = await pageOfTags(
      redis,
      CONSULTATION_TAGS,
      (tag) => this.statusIndex(tag, status ?? 'all'),
      status === 'open' ? 'asc' : 'desc',
      page,
    );
    const views = await Promise.all(entries.map((e) => this.get(redis, e.member)));
    return { items: views.filter((v): v is ConsultationView => v !== null), total };
  }

  /**
   * The same list, restricted to the consultations addressed to one member state: pages and `total` count only
   * those. The status filter intersects with the status index (scores from it, so the order is the same).
   */
  async listFor(
    redis: Redis,
    memberState: string,
    status: 'open' | 'closed' | undefined,
    page: { offset: number; limit: number },
  ): Promise<{ items: ConsultationView[]; total: number }> {
    let ids: string[];
    let total: number;
    if (status === undefined) {
      const merged = await pageOfTags(redis, CONSULTATION_TAGS, (tag) => this.addresseeIndex(tag, memberState), 'desc', page);
      ids = merged.entries.map((e) => e.member);
      total = merged.total;
    } else {
      // Per tag (both sets share it), then merged in the order one intersection would give.
      const parts = await Promise.all(
        CONSULTATION_TAGS.map(async (tag) =>
          withScores(
            await redis.zinter(2, this.statusIndex(tag, status), this.addresseeIndex(tag, memberState), 'WEIGHTS', 1, 0, 'WITHSCORES'),
            tag,
          ),
        ),
      );
      const all: Ranked[] = parts.flat().sort(compareRanked);
      if (status !== 'open') all.reverse();
      total = all.length;
      ids = all.slice(page.offset, page.offset + page.limit).map((e) => e.member);
    }
    const views = await Promise.all(ids.map((id) => this.get(redis, id)));
    return { items: views.filter((v): v is ConsultationView => v !== null), total };
  }

  /** Ids of the consultations opened in [fromMs, toMs), oldest first (reports). */
  async openedBetween(redis: Redis, fromMs: number, toMs: number): Promise<string[]> {
    return (await byScoreOfTags(redis, CONSULTATION_TAGS, (tag) => this.statusIndex(tag, 'all'), fromMs, toMs)).map((e) => e.member);
  }

  async exists(redis: Redis, id: string): Promise<boolean> {
    return (await redis.hexists(this.consultation(id), 'doc')) === 1;
  }

  async versionOf(redis: Redis, id: string): Promise<number> {
    return Number((await redis.hget(this.consultation(id), 'version')) ?? 0);
  }

  async comments(
    redis: Redis,
    consultationId: string,
    options: { memberState?: string; after?: number; limit: number },
  ): Promise<{ items: CommentView[]; next: number | null }> {
    const index = this.commentIndex(consultationId, options.memberState);
    const entries = await redis.zrangebyscore(
      index,
      `(${options.after ?? 0}`,
      '+inf',
      'WITHSCORES',
      'LIMIT',
      0,
      options.limit,
    );
    const ids: string[] = [];
    let lastScore: number | null = null;
    for (let i = 0; i < entries.length; i += 2) {
      ids.push(entries[i]!);
      lastScore = Number(entries[i + 1]);
    }
    const items = await Promise.all(ids.map((id) => this.commentById(redis, consultationId, id)));
    return {
      items: items.filter((c): c is CommentView => c !== null),
      next: ids.length === options.limit ? lastScore : null,
    };
  }

  /** A comment of a consultation (null when that consultation has no such comment in its partition). */
  async commentById(redis: Redis, consultationId: string, commentId: string): Promise<CommentView | null> {
    const [[, fields], [, revisions]] = (await redis
      .multi()
      .hgetall(this.comment(consultationId, commentId))
      .lrange(this.revisions(consultationId, commentId), 0, -1)
      .exec()) as [[unknown, Record<string, string>], [unknown, string[]]];
    if (!fields.commentId) return null;
    const view: CommentView = {
      commentId: fields.commentId,
      consultationId: fields.consultationId ?? '',
      trackingNumber: fields.trackingNumber ?? '',
      memberState: fields.memberState ?? '',
      body: fields.body ?? '',
      language: fields.language ?? '',
      receivedAt: fields.receivedAt ?? '',
      revision: Number(fields.revision ?? 1),
      status: fields.status === 'withdrawn' ? 'withdrawn' : 'active',
      lastChangedAt: fields.lastChangedAt ?? '',
      documentVersion: Number(fields.documentVersion ?? 1),
      revisions: revisions.map((r) => JSON.parse(r) as CommentRevision),
    };
    if (fields.withdrawnAt) view.withdrawnAt = fields.withdrawnAt;
    if (fields.attachments) view.attachments = JSON.parse(fields.attachments) as AttachmentRef[];
    return view;
  }

  /**
   * Events of a consultation with a sequence above `after`, in sequence order, as produced (JSON text). The
   * list holds sequence n at index n-1, so a page is one LRANGE; should a stream ever hold anything else (a
   * broken chain), the whole list is read and filtered instead.
   */
  async historyPage(redis: Redis, id: string, options: { after?: number; limit: number }): Promise<string[]> {
    const after = options.after ?? 0;
    const page = await redis.lrange(this.history(id), after, after + options.limit - 1);
    const sequenceOf = (raw: string): number => Number((JSON.parse(raw) as { sequence?: unknown }).sequence);
    if (page.every((raw, i) => sequenceOf(raw) === after + i + 1)) return page;
    const all = await redis.lrange(this.history(id), 0, -1);
    return all.filter((raw) => sequenceOf(raw) > after).slice(0, options.limit);
  }

  /** The whole history of a consultation, as produced (JSON text), in the order it was projected. */
  async fullHistory(redis: Redis, id: string): Promise<string[]> {
    return redis.lrange(this.history(id), 0, -1);
  }

  /** The outcome of a command, from whichever stream's partition decided it (every tag is looked at). */
  async outcome(redis: Redis, commandId: string): Promise<CommandOutcome | null> {
    const found = await Promise.all([...CONSULTATION_TAGS, ...CSO_TAGS].map((tag) => redis.get(this.outcomeKey(tag, commandId))));
    const raw = found.find((r) => r !== null);
    return raw ? (JSON.parse(raw) as CommandOutcome) : null;
  }

  /** The principal of a key that works now: null if unknown, revoked or expired. */
  async principalByKeyHash(redis: Redis, keyHash: string, now = new Date()): Promise<Principal | null> {
    const record = await this.apiKeyRecord(redis, keyHash);
    if (!record || record.revokedAt || (record.expiresAt && Date.parse(record.expiresAt) <= now.getTime())) return null;
    return record.principal;
  }
}
