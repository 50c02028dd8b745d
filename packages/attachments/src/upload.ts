import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SNIFF_BYTES, sniffMediaType } from './media-types.js';
import type { AttachmentMeta, AttachmentStore } from './store.js';

/** The documented upload limit: 25 MiB per file. */
export const ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024;

export type AttachmentErrorCode = 'attachment-too-large' | 'attachment-type-not-allowed' | 'attachment-digest-mismatch';

/** An upload refused for what it is; nothing was stored. */
export class AttachmentError extends Error {
  constructor(
    readonly code: AttachmentErrorCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'AttachmentError';
  }
}

export interface UploadOptions {
  maxBytes?: number;
  /** The SHA-256 (hex) the sender says the bytes have: a mismatch refuses the upload. */
  expectedDigest?: string;
  /** Where the bytes are staged while they are hashed and checked (default: the OS temp directory). */
  stagingDir?: string;
}

/**
 * Streams an upload to a staging file while hashing it, counting it and keeping its first bytes for the type
 * check: the bytes are never all in memory. Only when the whole upload is within the limit, of an accepted type
 * (by content) and of the expected digest does it go to the store; otherwise nothing is stored.
 */
export async function storeUpload(store: AttachmentStore, source: Readable, options: UploadOptions = {}): Promise<AttachmentMeta> {
  const maxBytes = options.maxBytes ?? ATTACHMENT_MAX_BYTES;
  const dir = options.stagingDir ?? join(tmpdir(), 'consult-attachment-staging');
  await mkdir(dir, { recursive: true });
  const staged = join(dir, randomUUID());
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBytes) return done(new AttachmentError('attachment-too-large', `the file is larger than ${maxBytes} bytes`));
      hash.update(chunk);
      if (headBytes < SNIFF_BYTES) {
        head.push(chunk.subarray(0, SNIFF_BYTES - headBytes));
        headBytes += Math.min(chunk.length, SNIFF_BYTES - headBytes);
      }
      done(null, chunk);
    },
  });
  // The source is piped, not handed to pipeline(): a refused upload must not destroy the caller's stream (an
  // HTTP request whose socket still has to carry the 4xx); it is unpiped and drained instead.
  source.pipe(meter);
  source.on('error', (error) => meter.destroy(error));
  try {
    await pipeline(meter, createWriteStream(staged)).catch((error: unknown) => {
      source.unpipe(meter);
      source.resume();
      throw error;
    });
    const mediaType = sniffMediaType(Buffer.concat(head));
    if (!mediaType)
      throw new AttachmentError('attachment-type-not-allowed', 'the content is not a PDF, DOCX, ODT, PNG or JPEG file (the type is read from the bytes, not the name)');
    const digest = hash.digest('hex');
    if (options.expectedDigest !== undefined && options.expectedDigest !== digest)
      throw new AttachmentError('attachment-digest-mismatch', `the bytes received have SHA-256 ${digest}, not ${options.expectedDigest}`);
    const meta: AttachmentMeta = { digest, mediaType, size };
    await store.putFile(staged, meta);
    return meta;
  } finally {
    await rm(staged, { force: true });
  }
}

/** Rehashes stored bytes: true when the store holds exactly the content its digest names. */
export async function verifyStored(store: AttachmentStore, digest: string): Promise<'ok' | 'missing' | 'mismatch'> {
  const stream = await store.open(digest);
  if (!stream) return 'missing';
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex') === digest ? 'ok' : 'mismatch';
}
