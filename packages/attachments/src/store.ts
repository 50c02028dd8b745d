import type { Readable } from 'node:stream';
import type { AttachmentMediaType } from './media-types.js';

/** What is known of stored bytes: their SHA-256 (hex, the address), type (by content) and size. */
export interface AttachmentMeta {
  digest: string;
  mediaType: AttachmentMediaType;
  size: number;
}

/**
 * Content-addressed storage: bytes are stored under their SHA-256, so storing the same file twice is one copy
 * and a reference (digest) names exactly one content. The one interface the rest of the system sees; a
 * directory by default (`DirectoryStore`), an S3-compatible object store to grow (`S3Store`).
 */
export interface AttachmentStore {
  /** Stores a verified, staged file under `meta.digest` (nothing happens if it is there already). */
  putFile(path: string, meta: AttachmentMeta): Promise<void>;
  /** The stored file's metadata, or null when nothing is stored under this digest. */
  stat(digest: string): Promise<AttachmentMeta | null>;
  /** The stored bytes as a stream, or null. */
  open(digest: string): Promise<Readable | null>;
  /** What this store is, for logs and `/readyz` (never with credentials). */
  readonly description: string;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
