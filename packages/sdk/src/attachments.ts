import type { ApiResponse, ConsultationClient } from './client.js';

/** A stored file as the API describes it: how comments, statements and documents refer to it. */
export interface Attachment {
  digest: string;
  mediaType: 'application/pdf' | 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' | 'application/vnd.oasis.opendocument.text' | 'image/png' | 'image/jpeg';
  size: number;
  filename?: string;
}

export interface DownloadedFile {
  status: number;
  ok: boolean;
  bytes: Buffer;
  mediaType: string | null;
  /** The SHA-256 (hex) the server says the bytes have (`Repr-Digest`), to compare with your own hash. */
  digest: string | null;
  filename: string | null;
}

/** Uploads (before referring to a file by its digest) and downloads (under the item it is attached to). */
export class AttachmentApi {
  constructor(private readonly client: ConsultationClient) {}

  /**
   * Uploads a file: a Buffer, or a stream (e.g. `Readable.toWeb(createReadStream(path))`) that is sent as it
   * is read. With `sha256` (hex) the server refuses bytes that differ (422 `attachment-digest-mismatch`).
   */
  async upload(file: Buffer | Uint8Array | ReadableStream<Uint8Array>, options: { sha256?: string } = {}): Promise<ApiResponse<Attachment>> {
    const response = await this.client.fetch('/v1/attachments', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...(options.sha256 ? { 'x-content-sha256': options.sha256 } : {}) },
      body: file,
      ...(file instanceof ReadableStream ? { duplex: 'half' } : {}),
    });
    return this.client.parse<Attachment>(response);
  }

  private async download(path: string): Promise<DownloadedFile> {
    const response = await this.client.fetch(path, { method: 'GET' });
    const bytes = Buffer.from(await response.arrayBuffer());
    const repr = /sha-256=:([A-Za-z0-9+/=]+):/.exec(response.headers.get('repr-digest') ?? '');
    const name = /filename\*=UTF-8''([^;]+)/.exec(response.headers.get('content-disposition') ?? '');
    return {
      status: response.status,
      ok: response.ok,
      bytes,
      mediaType: response.ok ? response.headers.get('content-type') : null,
      digest: repr ? Buffer.from(repr[1]!, 'base64').toString('hex') : null,
      filename: name ? decodeURIComponent(name[1]!) : null,
    };
  }

  ofComment(consultationId: string, commentId: string, digest: string): Promise<DownloadedFile> {
    return this.download(`/v1/consultations/${consultationId}/comments/${commentId}/attachments/${digest}`);
  }
  ofStatement(statementId: string, digest: string): Promise<DownloadedFile> {
    return this.download(`/v1/cso-statements/${statementId}/attachments/${digest}`);
  }
  /** The file of a document of the version in force. */
  ofDocument(consultationId: string, index: number): Promise<DownloadedFile> {
    return this.download(`/v1/consultations/${consultationId}/documents/${index}/attachment`);
  }
  /** The file of a document of any version (1 = as circulated), superseded ones included. */
  ofDocumentVersion(consultationId: string, version: number, index: number): Promise<DownloadedFile> {
    return this.download(`/v1/consultations/${consultationId}/document-versions/${version}/documents/${index}/attachment`);
  }
}
