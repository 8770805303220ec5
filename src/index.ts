export { Netns, defaultNetnsDir, type NetnsOptions } from './netns';
export { Links, type LinkFilter } from './links';
export { NetlinkError, errnoName } from './errors';
export type { Link, OperState, RawStep } from './types';
export { codec } from './codec';
