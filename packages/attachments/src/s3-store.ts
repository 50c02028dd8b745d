import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, NotFound, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { AttachmentMediaType } from './media-types.js';
import { SHA256_HEX, type AttachmentMeta, type AttachmentStore } from './store.js';

export interface S3StoreOptions {
  /** e.g. `http://127.0.0.1:9000` for a local S3-compatible server; omit for AWS itself. */
  endpoint?: string;
  bucket: string;
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Attachments in an S3-compatible bucket under `sha256/<digest>`, the type and digest in the object's metadata. */
export class S3Store implements AttachmentStore {
  readonly description: string;
  private readonly client: S3Client;

  constructor(private readonly options: S3StoreOptions) {
    this.description = `s3 ${options.endpoint ?? 'aws'}/${options.bucket}`;
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      // The SDK's default integrity trailers (aws-chunked uploads) are not understood by every S3-compatible
      // server; our own SHA-256 is the integrity check, verified on upload and by `replay --verify --attachments`.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  }

  private key(digest: string): string {
    if (!SHA256_HEX.test(digest)) throw new Error(`not a sha-256 digest: ${digest}`);
    return `sha256/${digest}`;
  }

  async putFile(path: string, meta: AttachmentMeta): Promise<void> {
    if (await this.stat(meta.digest)) return;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.key(meta.digest),
        Body: createReadStream(path),
        ContentLength: meta.size,
        ContentType: meta.mediaType,
        Metadata: { sha256: meta.digest },
      }),
    );
  }

  async stat(digest: string): Promise<AttachmentMeta | null> {
    if (!SHA256_HEX.test(digest)) return null;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(digest) }));
      return { digest, mediaType: head.ContentType as AttachmentMediaType, size: Number(head.ContentLength ?? 0) };
    } catch (error) {
      if (error instanceof NotFound || error instanceof NoSuchKey || (error as { name?: string }).name === 'NotFound') return null;
      throw error;
    }
  }

  async open(digest: string): Promise<Readable | null> {
    if (!(await this.stat(digest))) return null;
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(digest) }));
    return object.Body as Readable;
  }

  destroy(): void {
    this.client.destroy();
  }
}
