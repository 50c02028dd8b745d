import { copyFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { SHA256_HEX, type AttachmentMeta, type AttachmentStore } from './store.js';

/**
 * Attachments in a directory: `<root>/sha256/<first two hex>/<digest>` with a `<digest>.json` beside it. The
 * content is moved in first and the metadata last, each by an atomic rename, so a digest whose metadata can be
 * read is whole.
 */
export class DirectoryStore implements AttachmentStore {
  readonly description: string;
  constructor(private readonly root: string) {
    this.description = `directory ${root}`;
  }

  private paths(digest: string): { dir: string; content: string; meta: string } {
    if (!SHA256_HEX.test(digest)) throw new Error(`not a sha-256 digest: ${digest}`);
    const dir = join(this.root, 'sha256', digest.slice(0, 2));
    return { dir, content: join(dir, digest), meta: join(dir, `${digest}.json`) };
  }

  async putFile(path: string, meta: AttachmentMeta): Promise<void> {
    if (await this.stat(meta.digest)) return;
    const target = this.paths(meta.digest);
    await mkdir(target.dir, { recursive: true });
    const staged = join(target.dir, `.${randomUUID()}`);
    try {
      await copyFile(path, staged);
      await rename(staged, target.content);
      await writeFile(staged, JSON.stringify(meta));
      await rename(staged, target.meta);
    } finally {
      await rm(staged, { force: true });
    }
  }

  async stat(digest: string): Promise<AttachmentMeta | null> {
    if (!SHA256_HEX.test(digest)) return null;
    try {
      return JSON.parse(await readFile(this.paths(digest).meta, 'utf8')) as AttachmentMeta;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /**
   * The content, or null when it is not there: no metadata, or metadata whose content was removed (by hand, a
   * partial restore). The file is opened before answering, so a missing one is null, never a stream that fails.
   */
  async open(digest: string): Promise<Readable | null> {
    if (!(await this.stat(digest))) return null;
    try {
      const handle = await open(this.paths(digest).content, 'r');
      return handle.createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}
