import type {
  CommentVisibility,
  ConsultationDocument,
  DocumentVersionKind,
  LocalDeadline,
  Procedure,
  SilenceBreak,
} from '@consult/contracts';
import type { Consultation, DocumentVersion } from './consultation.js';
import { negotiateLanguage, originalOf } from './languages.js';
import { localDeadline, localDeadlinesOf } from './time-zones.js';

/** 'no-comments' is a nil return: the addressee responded, but it is never counted as a comment. */
export type ResponseStatus = 'commented' | 'no-comments' | 'pending';

export interface DocumentVersionView {
  version: number;
  kind: DocumentVersionKind;
  number: number;
  symbol: string;
  issuedAt: string;
  documents: ConsultationDocument[];
  resetsDeadline: boolean;
  resetsSilence: boolean;
  note?: string;
  /** The version's title in the negotiated language (the original's when it has no such translation). */
  title?: string;
}

export interface SilenceView {
  /** Breaks that count (received by the deadline, not reset by a revision), first first. */
  brokenBy: SilenceBreak[];
  /** Set at the deadline: deemed adopted, or silence broken. */
  outcome: 'deemed-adopted' | 'silence-broken' | null;
}

/** The consultation as the API shows it; the same function serves live read models and `asOf` replays. */
export interface ConsultationView {
  id: string;
  reference: string;
  title: string;
  summary?: string;
  /** The documents of the version in force, each language once, exactly one `original`. */
  documents: ConsultationDocument[];
  status: 'open' | 'closed';
  deadline: string;
  openedAt: string;
  closedAt: string | null;
  addressees: string[];
  responses: Record<string, ResponseStatus>;
  commentCount: number;
  noCommentsCount: number;
  commentVisibility: CommentVisibility;
  reminderOffsetsSeconds: number[];
  deadlineExtensions: number;
  version: number;
  procedure: Procedure;
  silence?: SilenceView;
  documentVersion: { version: number; kind: DocumentVersionKind; number: number; symbol: string; issuedAt: string };
  documentVersions: DocumentVersionView[];
  /** The deadline in each addressee's own zone. */
  localDeadlines: Record<string, LocalDeadline>;
  /** The deadline where the Secretariat sits, when its zone was given. */
  secretariatDeadline?: LocalDeadline;
  /** Set by language negotiation: the language chosen and the version-in-force document in it. */
  language?: string;
  document?: ConsultationDocument;
}

/** Who has responded: an addressee with a comment not withdrawn has commented; a nil return is not a comment. */
export function responsesOf(
  addressees: readonly string[],
  activeComments: (memberState: string) => number,
  hasNilReturn: (memberState: string) => boolean = () => false,
): { responses: Record<string, ResponseStatus>; commentCount: number; noCommentsCount: number } {
  const responses: Record<string, ResponseStatus> = {};
  let commentCount = 0;
  let noCommentsCount = 0;
  for (const code of addressees) {
    const active = activeComments(code);
    if (active > 0) responses[code] = 'commented';
    else if (hasNilReturn(code)) {
      responses[code] = 'no-comments';
      noCommentsCount += 1;
    } else responses[code] = 'pending';
    commentCount += active;
  }
  return { responses, commentCount, noCommentsCount };
}

/** Everything a view is built from: the domain state and the Redis read model both supply these. */
export interface ViewParts {
  id: string;
  reference: string;
  title: string;
  summary?: string | undefined;
  addressees: readonly string[];
  commentVisibility: CommentVisibility;
  reminderOffsetsSeconds: readonly number[];
  openedAt: string;
  deadline: string;
  status: 'open' | 'closed';
  closedAt: string | null;
  deadlineExtensions: number;
  version: number;
  procedure: Procedure;
  timeZones: Readonly<Record<string, string>>;
  secretariatTimeZone?: string | undefined;
  documentVersions: readonly DocumentVersion[];
  activeComments: (memberState: string) => number;
  hasNilReturn: (memberState: string) => boolean;
  silenceBreaks: readonly SilenceBreak[];
  silenceOutcome: 'deemed-adopted' | 'silence-broken' | null;
}

export function buildView(p: ViewParts): ConsultationView {
  const { responses, commentCount, noCommentsCount } = responsesOf(p.addressees, p.activeComments, p.hasNilReturn);
  const versions = p.documentVersions.map((v): DocumentVersionView => {
    const view: DocumentVersionView = {
      version: v.version,
      kind: v.kind,
      number: v.number,
      symbol: v.symbol,
      issuedAt: v.issuedAt,
      documents: [...v.documents],
      resetsDeadline: v.resetsDeadline,
      resetsSilence: v.resetsSilence,
    };
    if (v.note !== undefined) view.note = v.note;
    return view;
  });
  const current = versions[versions.length - 1]!;
  const view: ConsultationView = {
    id: p.id,
    reference: p.reference,
    title: p.title,
    documents: [...current.documents],
    status: p.status,
    deadline: p.deadline,
    openedAt: p.openedAt,
    closedAt: p.closedAt,
    addressees: [...p.addressees],
    responses,
    commentCount,
    noCommentsCount,
    commentVisibility: p.commentVisibility,
    reminderOffsetsSeconds: [...p.reminderOffsetsSeconds],
    deadlineExtensions: p.deadlineExtensions,
    version: p.version,
    procedure: p.procedure,
    documentVersion: {
      version: current.version,
      kind: current.kind,
      number: current.number,
      symbol: current.symbol,
      issuedAt: current.issuedAt,
    },
    documentVersions: versions,
    localDeadlines: localDeadlinesOf(p.deadline, p.addressees, p.timeZones),
  };
  if (p.summary !== undefined) view.summary = p.summary;
  if (p.procedure === 'silence') view.silence = { brokenBy: [...p.silenceBreaks], outcome: p.silenceOutcome };
  if (p.secretariatTimeZone) view.secretariatDeadline = localDeadline(p.deadline, p.secretariatTimeZone);
  return view;
}

export function viewOf(c: Consultation): ConsultationView {
  return buildView({
    ...c,
    activeComments: (code) => c.activeByState.get(code) ?? 0,
    hasNilReturn: (code) => c.noComments.has(code),
    silenceBreaks: c.silenceBreaks,
    silenceOutcome: c.closing?.silence?.outcome ?? null,
  });
}

/**
 * The view in the language `Accept-Language` asks for, among those the version in force exists in, falling
 * back to the original: `language` names the choice (the answer's Content-Language), `document` is the
 * version-in-force document in it, and each version's `title` is its title in it.
 */
export function localizeView<V extends ConsultationView>(view: V, acceptLanguage: string | undefined): V {
  const original = originalOf(view.documents);
  if (!original) return view;
  const language = negotiateLanguage(
    acceptLanguage,
    view.documents.map((d) => d.language),
    original.language,
  );
  const pick = (documents: readonly ConsultationDocument[]): ConsultationDocument | undefined =>
    documents.find((d) => d.language === language) ?? originalOf(documents);
  return {
    ...view,
    language,
    document: pick(view.documents) ?? original,
    documentVersions: view.documentVersions.map((v) => {
      const chosen = pick(v.documents);
      return chosen ? { ...v, title: chosen.title } : v;
    }),
  };
}
