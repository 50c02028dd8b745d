import { describe, expect, it } from 'vitest';
import { attachmentStoreFrom } from './configured.js';
import { DirectoryStore } from './directory-store.js';
import { S3Store } from './s3-store.js';

describe('the configured attachment store', () => {
  it('is a directory by default, and an S3-compatible bucket when one is named', () => {
    expect(attachmentStoreFrom({ dir: '.data/attachments' })).toBeInstanceOf(DirectoryStore);
    const s3 = attachmentStoreFrom({ dir: '.data/attachments', s3Bucket: 'consult', s3Endpoint: 'http://127.0.0.1:9000' });
    expect(s3).toBeInstanceOf(S3Store);
    expect(s3.description).toBe('s3 http://127.0.0.1:9000/consult');
    (s3 as S3Store).destroy();
  });
});
