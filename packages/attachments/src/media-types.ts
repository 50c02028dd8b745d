/**
 * What a file is, told by its first bytes (magic numbers), never by its name or the declared Content-Type.
 * Only these types are accepted; anything else (an executable, HTML, SVG, a script…) is refused.
 */
import type { AttachmentMediaType } from '@consult/contracts';

export type { AttachmentMediaType };

/** How many leading bytes `sniffMediaType` looks at: enough for a ZIP's first local headers. */
export const SNIFF_BYTES = 64 * 1024;

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0): boolean =>
  head.length >= at + bytes.length && bytes.every((b, i) => head[at + i] === b);
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const contains = (head: Uint8Array, text: string): boolean => Buffer.from(head.buffer, head.byteOffset, head.length).includes(text, 0, 'latin1');

/**
 * The media type of a file from its first bytes (up to SNIFF_BYTES), or null when it is none we accept.
 * - PDF: `%PDF-`; PNG: its 8-byte signature; JPEG: FF D8 FF.
 * - ODT: a ZIP whose first entry is the uncompressed `mimetype` file naming the OpenDocument text type
 *   (the format requires that layout, so it is at a fixed offset).
 * - DOCX: a ZIP (Office Open XML) holding `[Content_Types].xml` and a `word/` part among its first entries.
 */
export function sniffMediaType(head: Uint8Array): AttachmentMediaType | null {
  if (startsWith(head, ascii('%PDF-'))) return 'application/pdf';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    if (startsWith(head, ascii('mimetype'), 30) && startsWith(head, ascii('application/vnd.oasis.opendocument.text'), 38))
      return 'application/vnd.oasis.opendocument.text';
    if (contains(head, '[Content_Types].xml') && contains(head, 'word/'))
      return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
  }
  return null;
}
