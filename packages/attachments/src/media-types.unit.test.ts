import { describe, expect, it } from 'vitest';
import { sniffMediaType } from './media-types.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
/** A ZIP local file header for an entry `name` (the fields the sniffer reads; the rest zeroed). */
const zipEntry = (name: string, content = ''): (string | number[])[] => [
  [0x50, 0x4b, 0x03, 0x04],
  new Array<number>(22).fill(0),
  [name.length, 0, 0, 0],
  name,
  content,
];

describe('media type by content, never by name', () => {
  it('knows PDF, PNG and JPEG by their signatures', () => {
    expect(sniffMediaType(bytes('%PDF-1.7\n%âãÏÓ\n'))).toBe('application/pdf');
    expect(sniffMediaType(bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]))).toBe('image/png');
    expect(sniffMediaType(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], 'JFIF'))).toBe('image/jpeg');
  });

  it('tells an OpenDocument text and a Word document apart from any other ZIP', () => {
    expect(sniffMediaType(bytes(...zipEntry('mimetype', 'application/vnd.oasis.opendocument.text'), ...zipEntry('content.xml')))).toBe(
      'application/vnd.oasis.opendocument.text',
    );
    expect(sniffMediaType(bytes(...zipEntry('[Content_Types].xml', '<Types/>'), ...zipEntry('word/document.xml')))).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(sniffMediaType(bytes(...zipEntry('mimetype', 'application/vnd.oasis.opendocument.spreadsheet')))).toBeNull();
    expect(sniffMediaType(bytes(...zipEntry('payload.exe')))).toBeNull();
  });

  it('refuses executables, scripts and markup whatever they are called', () => {
    expect(sniffMediaType(bytes('MZ', [0x90, 0, 3, 0], 'This program cannot be run in DOS mode'))).toBeNull();
    expect(sniffMediaType(bytes([0x7f], 'ELF', [2, 1, 1]))).toBeNull();
    expect(sniffMediaType(bytes('#!/bin/sh\nrm -rf /\n'))).toBeNull();
    expect(sniffMediaType(bytes('<html><script>alert(1)</script>'))).toBeNull();
    expect(sniffMediaType(bytes(' %PDF-1.7'))).toBeNull();
    expect(sniffMediaType(new Uint8Array())).toBeNull();
  });
});
