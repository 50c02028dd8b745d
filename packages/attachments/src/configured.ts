import { DirectoryStore } from './directory-store.js';
import { S3Store } from './s3-store.js';
import type { AttachmentStore } from './store.js';

export interface AttachmentStoreConfig {
  /** The directory of the default store. */
  dir: string;
  /** With a bucket, attachments go to an S3-compatible store instead (credentials from the AWS SDK's usual chain). */
  s3Bucket?: string | undefined;
  s3Endpoint?: string | undefined;
  s3Region?: string | undefined;
}

/** The store the configuration names: S3 when a bucket is given, else the directory. */
export function attachmentStoreFrom(config: AttachmentStoreConfig): AttachmentStore {
  if (config.s3Bucket)
    return new S3Store({
      bucket: config.s3Bucket,
      ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
      ...(config.s3Region ? { region: config.s3Region } : {}),
    });
  return new DirectoryStore(config.dir);
}
