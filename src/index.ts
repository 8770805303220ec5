export { Netns, defaultNetnsDir, type NetnsOptions } from './netns';
export { Links, type LinkFilter } from './links';
export { NetlinkError, errnoName } from './errors';
export type { Link, OperState } from './types';
export { codec } from './codec';
export * as nft from './nft';
export { Nft, Transaction as NftTransaction } from './nft';
