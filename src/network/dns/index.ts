// Name resolution by DNS for netplumb's networks: docs/dns.md.
export { Resolver, reverseAddress, type ResolverOptions, type ResolverListener, type ResolverStats } from './resolver';
export { parseResolvConf, readHostResolvConf, resolvConfContent, servesDns, type ResolvConf } from './resolvconf';
export { parseUpstream, type Upstream, type ForwarderStats } from './upstream';
