import { verifyStored, type AttachmentStore } from '@consult/attachments';
import type { ChainRecord } from './chain.js';

export interface AttachmentReference {
  digest: string;
  size: number;
  /** Where it is referenced first: the stream key and sequence. */
  key: string;
  sequence: number;
}

export interface AttachmentProblem extends AttachmentReference {
  problem: 'missing' | 'mismatch';
}

const isRef = (v: unknown): v is { digest: string; size: number; mediaType: string } =>
  typeof v === 'object' && v !== null && typeof (v as { digest?: unknown }).digest === 'string' &&
  /^[0-9a-f]{64}$/.test((v as { digest: string }).digest) && typeof (v as { mediaType?: unknown }).mediaType === 'string';

/** Every attachment reference in an event's data (comments', statements' and documents' files), wherever it sits. */
export function attachmentRefsIn(value: unknown, found: { digest: string; size: number }[] = []): { digest: string; size: number }[] {
  if (isRef(value)) found.push({ digest: value.digest, size: Number(value.size) });
  else if (Array.isArray(value)) for (const v of value) attachmentRefsIn(v, found);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) attachmentRefsIn(v, found);
  return found;
}

/** Collects the references of a history topic's records, the first place each digest is named. */
export class AttachmentCollector {
  readonly references = new Map<string, AttachmentReference>();
  add(record: ChainRecord): void {
    if (!record.value) return;
    let event: { key?: string; sequence?: number; data?: unknown };
    try {
      event = JSON.parse(record.value) as typeof event;
    } catch {
      return; // the chain check reports it
    }
    for (const ref of attachmentRefsIn(event.data))
      if (!this.references.has(ref.digest))
        this.references.set(ref.digest, { ...ref, key: event.key ?? record.key ?? '', sequence: Number(event.sequence ?? 0) });
  }
}

/** Checks that each referenced digest is in the store and that its bytes hash to it. */
export async function verifyAttachments(store: AttachmentStore, references: Iterable<AttachmentReference>): Promise<{ checked: number; problems: AttachmentProblem[] }> {
  const problems: AttachmentProblem[] = [];
  let checked = 0;
  for (const ref of references) {
    checked += 1;
    const result = await verifyStored(store, ref.digest);
    if (result !== 'ok') problems.push({ ...ref, problem: result });
  }
  return { checked, problems };
}

export function formatAttachmentProblem(p: AttachmentProblem): string {
  return `ATTACHMENT ${p.problem.toUpperCase()}: ${p.digest} (${p.size} bytes), referenced by ${p.key} sequence ${p.sequence}`;
}
