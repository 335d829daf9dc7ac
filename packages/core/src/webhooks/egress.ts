import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type * as Undici from 'undici';
import type { Agent } from 'undici';
import { lazyModule } from '../util/lazy-module.js';

// Loaded when the first public-only pool is made (the first delivery or link message).
const undici = lazyModule<typeof Undici>('undici');

/**
 * Where webhooks and Rapport Link peers may go (the one egress policy of both). A webhook URL is chosen by a tenant's user and the delivery log shows
 * what answered, so deliveries to the server's own network would let any tenant probe it
 * (and reach metadata services, databases, admin consoles). By default only addresses on the
 * public internet are called; `dispatcher.allowPrivateNetworks` lifts that for a receiver on
 * a private network (and for tests). A link's peer URL comes from another firm (the
 * invitation an admin pastes, the base URL in a peer's acceptance) and is held to the same rule.
 */

/** On the public internet: ipaddr.js's "unicast" range, not loopback, private, link-local, CGNAT, multicast or reserved. */
export function isPublicAddress(address: string): boolean {
  try {
    return ipaddr.process(address).range() === 'unicast';
  } catch {
    return false;
  }
}

/** Why a URL's host may not be called when it names this machine or a non-public address itself; undefined for a public address or a DNS name. */
export function privateHostProblem(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is this machine`;
  if (ipaddr.isValid(host) && !isPublicAddress(host)) return `${host} is not a public address`;
  return undefined;
}

/**
 * A connection pool whose connections reach public addresses only. The address is checked
 * as the connection is made, on what DNS answered then, so a name cannot pass a check and
 * resolve elsewhere for the request (DNS rebinding).
 */
export function publicOnlyAgent(resolve: typeof dns.lookup = dns.lookup): Agent {
  return new (undici().Agent)({ connect: { lookup: publicOnlyLookup(resolve) } });
}

const publicOnlyLookup =
  (resolve: typeof dns.lookup): LookupFunction =>
  (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refused = addresses.find((a) => !isPublicAddress(a.address));
      if (refused) {
        const denied: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${refused.address}, which is not a public address (dispatcher.allowPrivateNetworks)`);
        denied.code = 'EPRIVATEADDRESS';
        return callback(denied, '');
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
