// nft's data types by name: what sets are declared with and selectors load. Their ids,
// sizes, byte orders and the encoding of values live in native/nft/datatypes.cc, the one
// owner: this module reads that table once and asks native code for a value's bytes.
import { native, type NativeDatum } from '../binding';
import { callSync } from '../errors';

/** A value of a data type: an address, a port or protocol number, a name. */
export type Scalar = string | number;

/** Names of the data types netplumb can encode. */
export type DatatypeName =
  | 'ipv4_addr' | 'ipv6_addr' | 'ether_addr' | 'ether_type' | 'inet_proto' | 'inet_service' | 'mark'
  | 'iface_index' | 'ct_state' | 'ct_status' | 'fib_addrtype' | 'ifname' | 'nf_proto';

/** A data type as nft knows it: its id (NFTA_SET_KEY_TYPE), its size in a register, the byte order nft records for it. */
export interface Datatype {
  readonly name: DatatypeName;
  readonly id: number;
  readonly len: number;
  readonly byteorder: number;
}

const BY_NAME = new Map(native.nftDatatypes().filter((t) => t.name !== 'verdict').map((t) => [t.name, t as Datatype]));

/** The data type of a name; TypeError for one netplumb does not know. */
export function datatype(name: string): Datatype {
  const t = BY_NAME.get(name);
  if (!t) throw new TypeError(`unknown data type ${JSON.stringify(name)} (one of ${[...BY_NAME.keys()].join(', ')})`);
  return t;
}

/**
 * The bytes of a value of `types` (one type, or a concatenation: one value per part), as
 * nftables compares them: '10.0.0.1' as ipv4_addr, 80 as inet_service, ['tcp', 80]...
 * A value that does not fit is a TypeError (RangeError for a number out of range) whose
 * message starts with `what`.
 */
export function encodeValue(types: readonly DatatypeName[], value: unknown, what: string): Buffer {
  return callSync(() => native.nftEncodeValue([...types], value as NativeDatum, what));
}

/** Bytes a value of this type takes in a concatenation: whole 4-byte registers. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}
