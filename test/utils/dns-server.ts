// A tiny authoritative DNS server on 127.0.0.1 for tests (dns-packet encodes the answers): the
// test sets what each name resolves to, and can change it between lookups (DNS rebinding).
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';

export interface DnsServer {
  /** "127.0.0.1:port", for webhooks.dns_servers. */
  address: string;
  set(name: string, addresses: string[]): void;
  queries(name: string): number;
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<DnsServer> {
  const records = new Map<string, string[]>();
  const counts = new Map<string, number>();
  const socket: Socket = createSocket('udp4');
  socket.on('message', (message, rinfo) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const addresses = records.get(name);
    const wanted = (records.get(name) ?? []).filter((a) => (question.type === 'AAAA' ? isIPv6(a) : question.type === 'A' && !isIPv6(a)));
    const answer = dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (addresses ? 0 : 3), // NXDOMAIN for unknown names
      questions: [question],
      // TTL 0: no resolver may cache an answer the test is about to change.
      answers: wanted.map((data) => ({ type: question.type as 'A' | 'AAAA', name: question.name, ttl: 0, data })),
    });
    socket.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    set: (name, addresses) => void records.set(name.toLowerCase(), addresses),
    queries: (name) => counts.get(name.toLowerCase()) ?? 0,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
