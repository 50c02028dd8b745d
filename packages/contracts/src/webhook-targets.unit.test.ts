import { describe, expect, it } from 'vitest';
import { forbiddenAddressReason, webhookHost } from './webhook-targets.js';

describe('webhook targets', () => {
  it('refuses loopback, private, link-local, metadata and other internal addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '10.0.0.8', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe', '::ffff:a9fe:a9fe'])
      expect(forbiddenAddressReason(a), a).not.toBeNull();
    expect(forbiddenAddressReason('169.254.169.254')).toMatch(/metadata/);
  });

  it('allows public addresses', () => {
    for (const a of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(forbiddenAddressReason(a), a).toBeNull();
  });

  it('sees through the spellings a URL parser normalises (0x7f.1, 2130706433, [::1])', () => {
    for (const url of ['http://0x7f.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://127.1/', 'http://[::1]:8080/', 'http://[::ffff:127.0.0.1]/'])
      expect(forbiddenAddressReason(webhookHost(new URL(url))), url).not.toBeNull();
  });

  it('refuses what is not an IP address', () => {
    expect(forbiddenAddressReason('example.org')).toBe('not an IP address');
  });
});
