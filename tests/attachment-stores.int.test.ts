import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttachmentError,
  DirectoryStore,
  S3Store,
  storeUpload,
  verifyStored,
  type AttachmentStore,
} from '@consult/attachments';

const pdf = (n: number): Buffer => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(n)]);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** A source that yields `size` bytes in 64 KiB chunks without holding them. */
const chunks = (first: Buffer, size: number): Readable =>
  Readable.from(
    (function* () {
      yield first;
      for (let sent = first.length; sent < size; sent += 65_536) yield Buffer.alloc(Math.min(65_536, size - sent), 1);
    })(),
  );

async function roundTrip(store: AttachmentStore): Promise<void> {
  const file = pdf(300_000);
  const meta = await storeUpload(store, Readable.from([file]), { expectedDigest: sha(file) });
  expect(meta).toEqual({ digest: sha(file), mediaType: 'application/pdf', size: file.length });
  expect(await store.stat(meta.digest)).toMatchObject({ digest: meta.digest, mediaType: 'application/pdf', size: file.length });
  const back: Buffer[] = [];
  for await (const c of (await store.open(meta.digest))!) back.push(c as Buffer);
  expect(sha(Buffer.concat(back))).toBe(meta.digest);
  expect(await verifyStored(store, meta.digest)).toBe('ok');
  // The same bytes again: the same address, one copy.
  expect(await storeUpload(store, Readable.from([file]))).toEqual(meta);

  // Refusals store nothing.
  const other = pdf(1_000);
  await expect(storeUpload(store, Readable.from([other]), { expectedDigest: 'f'.repeat(64) })).rejects.toMatchObject({ code: 'attachment-digest-mismatch' });
  expect(await store.stat(sha(other))).toBeNull();
  const exe = Buffer.concat([Buffer.from('MZ'), randomBytes(5_000)]);
  await expect(storeUpload(store, Readable.from([exe]))).rejects.toMatchObject({ code: 'attachment-type-not-allowed' });
  expect(await store.stat(sha(exe))).toBeNull();
  await expect(storeUpload(store, chunks(Buffer.from('%PDF-1.7\n'), 2_000_000), { maxBytes: 1_000_000 })).rejects.toBeInstanceOf(AttachmentError);
  expect(await verifyStored(store, 'e'.repeat(64))).toBe('missing');
}

describe('content-addressed attachment stores', () => {
  let dir: string;
  let s3: S3rver;
  let endpoint: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attachment-stores-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'attachments' }] });
    const address = await s3.run();
    endpoint = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a directory stores, serves and verifies by digest, and stores nothing it refuses', async () => {
    await roundTrip(new DirectoryStore(join(dir, 'files')));
  });

  it('a directory whose content file was removed (its metadata left) answers missing, not a failing stream', async () => {
    const store = new DirectoryStore(join(dir, 'removed'));
    const file = pdf(10_000);
    const meta = await storeUpload(store, Readable.from([file]));
    await unlink(join(dir, 'removed', 'sha256', meta.digest.slice(0, 2), meta.digest));
    expect(await store.open(meta.digest)).toBeNull();
    expect(await verifyStored(store, meta.digest)).toBe('missing');
  });

  it('an S3-compatible store (s3rver, from npm) does the same through the AWS SDK', async () => {
    const store = new S3Store({ endpoint, bucket: 'attachments', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await roundTrip(store);
    store.destroy();
  });

  it('a 21 MiB upload streams through within the limit', async () => {
    const store = new DirectoryStore(join(dir, 'large'));
    const meta = await storeUpload(store, chunks(Buffer.from('%PDF-1.7\n'), 21 * 1024 * 1024));
    expect(meta.size).toBe(21 * 1024 * 1024);
    expect(await verifyStored(store, meta.digest)).toBe('ok');
  });
});
