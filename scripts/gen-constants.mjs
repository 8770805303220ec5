#!/usr/bin/env node
// The one table of netplumb's named constants: every enumeration that crosses between
// TypeScript and C++ (route scopes, link modes, neighbour states, nftables keys and
// verdicts...) as its names and the uapi macro each name stands for. This script asks
// the C compiler for the macros' values (the headers of linux-libc-dev) and writes them
// for both languages:
//
//   src/constants.ts       export const SCOPES = { universe: 0, ... } as const
//   native/constants.h     inline constexpr Name kScopes[] = {{"universe", 0}, ...}
//
// Run it after changing the table (npm run constants); test/constants.test.ts checks
// the files are what it writes, and that the public types name the same values.
// A value newer than the oldest headers netplumb builds with is given as a number, with
// the macro in a comment.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

const HEADERS = [
  'sys/socket.h', 'linux/if.h', 'linux/if_addr.h', 'linux/if_bridge.h', 'linux/if_ether.h', 'linux/if_link.h', 'linux/in.h',
  'linux/ip.h', 'linux/neighbour.h', 'linux/netfilter.h', 'linux/netfilter/nf_nat.h', 'linux/netfilter/nf_tables.h',
  'linux/netfilter_ipv4.h', 'linux/netlink.h', 'linux/rtnetlink.h',
];

// [name, macro or number (for values newer than the oldest headers), macro named in a comment]
/** @type {{ ts: string; cxx: string; doc: string; entries: [string, string | number, string?][] }[]} */
const GROUPS = [
  // ---- rtnetlink ----
  { ts: 'SCOPES', cxx: 'kScopes', doc: 'Route and address scopes (RT_SCOPE_*).', entries: [
    ['universe', 'RT_SCOPE_UNIVERSE'], ['site', 'RT_SCOPE_SITE'], ['link', 'RT_SCOPE_LINK'], ['host', 'RT_SCOPE_HOST'],
    ['nowhere', 'RT_SCOPE_NOWHERE'],
  ] },
  { ts: 'ROUTE_TYPES', cxx: 'kRouteTypes', doc: 'Route types (RTN_*).', entries: [
    ['unicast', 'RTN_UNICAST'], ['local', 'RTN_LOCAL'], ['broadcast', 'RTN_BROADCAST'], ['anycast', 'RTN_ANYCAST'],
    ['multicast', 'RTN_MULTICAST'], ['blackhole', 'RTN_BLACKHOLE'], ['unreachable', 'RTN_UNREACHABLE'],
    ['prohibit', 'RTN_PROHIBIT'], ['throw', 'RTN_THROW'], ['nat', 'RTN_NAT'],
  ] },
  { ts: 'ROUTE_PROTOCOLS', cxx: 'kRouteProtocols', doc: 'Who installed a route (RTPROT_*).', entries: [
    ['unspec', 'RTPROT_UNSPEC'], ['redirect', 'RTPROT_REDIRECT'], ['kernel', 'RTPROT_KERNEL'], ['boot', 'RTPROT_BOOT'],
    ['static', 'RTPROT_STATIC'], ['ra', 'RTPROT_RA'], ['dhcp', 'RTPROT_DHCP'],
  ] },
  { ts: 'ROUTE_TABLES', cxx: 'kRouteTables', doc: 'Routing tables with names (RT_TABLE_*).', entries: [
    ['default', 'RT_TABLE_DEFAULT'], ['main', 'RT_TABLE_MAIN'], ['local', 'RT_TABLE_LOCAL'],
  ] },
  { ts: 'ADDRESS_FLAGS', cxx: 'kAddressFlags', doc: 'Address flags links take (IFA_F_*).', entries: [
    ['nodad', 'IFA_F_NODAD'], ['homeaddress', 'IFA_F_HOMEADDRESS'], ['managetempaddr', 'IFA_F_MANAGETEMPADDR'],
    ['noprefixroute', 'IFA_F_NOPREFIXROUTE'], ['mcautojoin', 'IFA_F_MCAUTOJOIN'],
  ] },
  { ts: 'OPERSTATES', cxx: 'kOperstates', doc: 'Operational states (IF_OPER_*, RFC 2863).', entries: [
    ['unknown', 'IF_OPER_UNKNOWN'], ['notpresent', 'IF_OPER_NOTPRESENT'], ['down', 'IF_OPER_DOWN'],
    ['lowerlayerdown', 'IF_OPER_LOWERLAYERDOWN'], ['testing', 'IF_OPER_TESTING'], ['dormant', 'IF_OPER_DORMANT'], ['up', 'IF_OPER_UP'],
  ] },
  { ts: 'MACVLAN_MODES', cxx: 'kMacvlanModes', doc: 'macvlan modes (MACVLAN_MODE_*).', entries: [
    ['private', 'MACVLAN_MODE_PRIVATE'], ['vepa', 'MACVLAN_MODE_VEPA'], ['bridge', 'MACVLAN_MODE_BRIDGE'],
    ['passthru', 'MACVLAN_MODE_PASSTHRU'], ['source', 'MACVLAN_MODE_SOURCE'],
  ] },
  { ts: 'IPVLAN_MODES', cxx: 'kIpvlanModes', doc: 'ipvlan modes (IPVLAN_MODE_*).', entries: [
    ['l2', 'IPVLAN_MODE_L2'], ['l3', 'IPVLAN_MODE_L3'], ['l3s', 'IPVLAN_MODE_L3S'],
  ] },
  { ts: 'VLAN_PROTOCOLS', cxx: 'kVlanProtocols', doc: 'VLAN protocols (ETH_P_8021Q, ETH_P_8021AD).', entries: [
    ['802.1Q', 'ETH_P_8021Q'], ['802.1ad', 'ETH_P_8021AD'],
  ] },
  { ts: 'ADDR_GEN_MODES', cxx: 'kAddrGenModes', doc: 'IPv6 address generation modes (IN6_ADDR_GEN_MODE_*).', entries: [
    ['eui64', 'IN6_ADDR_GEN_MODE_EUI64'], ['none', 'IN6_ADDR_GEN_MODE_NONE'],
    ['stable_privacy', 'IN6_ADDR_GEN_MODE_STABLE_PRIVACY'], ['random', 'IN6_ADDR_GEN_MODE_RANDOM'],
  ] },
  { ts: 'IPV4_DEVCONF', cxx: 'kIpv4DevConf', doc: 'IPv4 per-device settings, by their /proc/sys/net/ipv4/conf names (IPV4_DEVCONF_*).', entries: [
    ['forwarding', 'IPV4_DEVCONF_FORWARDING'], ['mc_forwarding', 'IPV4_DEVCONF_MC_FORWARDING'], ['proxy_arp', 'IPV4_DEVCONF_PROXY_ARP'],
    ['accept_redirects', 'IPV4_DEVCONF_ACCEPT_REDIRECTS'], ['secure_redirects', 'IPV4_DEVCONF_SECURE_REDIRECTS'],
    ['send_redirects', 'IPV4_DEVCONF_SEND_REDIRECTS'], ['shared_media', 'IPV4_DEVCONF_SHARED_MEDIA'], ['rp_filter', 'IPV4_DEVCONF_RP_FILTER'],
    ['accept_source_route', 'IPV4_DEVCONF_ACCEPT_SOURCE_ROUTE'], ['bootp_relay', 'IPV4_DEVCONF_BOOTP_RELAY'],
    ['log_martians', 'IPV4_DEVCONF_LOG_MARTIANS'], ['tag', 'IPV4_DEVCONF_TAG'], ['arp_filter', 'IPV4_DEVCONF_ARPFILTER'],
    ['medium_id', 'IPV4_DEVCONF_MEDIUM_ID'], ['disable_xfrm', 'IPV4_DEVCONF_NOXFRM'], ['disable_policy', 'IPV4_DEVCONF_NOPOLICY'],
    ['force_igmp_version', 'IPV4_DEVCONF_FORCE_IGMP_VERSION'], ['arp_announce', 'IPV4_DEVCONF_ARP_ANNOUNCE'],
    ['arp_ignore', 'IPV4_DEVCONF_ARP_IGNORE'], ['promote_secondaries', 'IPV4_DEVCONF_PROMOTE_SECONDARIES'],
    ['arp_accept', 'IPV4_DEVCONF_ARP_ACCEPT'], ['arp_notify', 'IPV4_DEVCONF_ARP_NOTIFY'], ['accept_local', 'IPV4_DEVCONF_ACCEPT_LOCAL'],
    ['src_valid_mark', 'IPV4_DEVCONF_SRC_VMARK'], ['proxy_arp_pvlan', 'IPV4_DEVCONF_PROXY_ARP_PVLAN'],
    ['route_localnet', 'IPV4_DEVCONF_ROUTE_LOCALNET'], ['igmpv2_unsolicited_report_interval', 'IPV4_DEVCONF_IGMPV2_UNSOLICITED_REPORT_INTERVAL'],
    ['igmpv3_unsolicited_report_interval', 'IPV4_DEVCONF_IGMPV3_UNSOLICITED_REPORT_INTERVAL'],
    ['ignore_routes_with_linkdown', 'IPV4_DEVCONF_IGNORE_ROUTES_WITH_LINKDOWN'], ['drop_unicast_in_l2_multicast', 'IPV4_DEVCONF_DROP_UNICAST_IN_L2_MULTICAST'],
    ['drop_gratuitous_arp', 'IPV4_DEVCONF_DROP_GRATUITOUS_ARP'], ['bc_forwarding', 'IPV4_DEVCONF_BC_FORWARDING'],
    ['arp_evict_nocarrier', 'IPV4_DEVCONF_ARP_EVICT_NOCARRIER'],
  ] },
  { ts: 'BRIDGE_PORT_STATES', cxx: 'kBridgePortStates', doc: 'STP states of a bridge port (BR_STATE_*).', entries: [
    ['disabled', 'BR_STATE_DISABLED'], ['listening', 'BR_STATE_LISTENING'], ['learning', 'BR_STATE_LEARNING'],
    ['forwarding', 'BR_STATE_FORWARDING'], ['blocking', 'BR_STATE_BLOCKING'],
  ] },
  { ts: 'NEIGHBOUR_STATES', cxx: 'kNeighbourStates', doc: 'Neighbour states as `ip neigh` names them (NUD_*), strongest first: an entry shows the first it has.', entries: [
    ['permanent', 'NUD_PERMANENT'], ['noarp', 'NUD_NOARP'], ['reachable', 'NUD_REACHABLE'], ['stale', 'NUD_STALE'],
    ['delay', 'NUD_DELAY'], ['probe', 'NUD_PROBE'], ['failed', 'NUD_FAILED'], ['incomplete', 'NUD_INCOMPLETE'], ['none', 'NUD_NONE'],
  ] },
  { ts: 'NEIGHBOUR_FLAGS', cxx: 'kNeighbourFlags', doc: 'Neighbour and FDB entry flags as `ip -j neigh` and `bridge -j fdb` name them (NTF_*).', entries: [
    ['use', 'NTF_USE'], ['self', 'NTF_SELF'], ['master', 'NTF_MASTER'], ['proxy', 'NTF_PROXY'], ['extern_learn', 'NTF_EXT_LEARNED'],
    ['offload', 'NTF_OFFLOADED'], ['sticky', 'NTF_STICKY'], ['router', 'NTF_ROUTER'],
  ] },
  { ts: 'ADDRESS_FAMILIES', cxx: 'kAddressFamilies', doc: 'Address families of neighbour tables (AF_*).', entries: [
    ['inet', 'AF_INET'], ['inet6', 'AF_INET6'], ['bridge', 'AF_BRIDGE'],
  ] },
  { ts: 'IP_PROTOCOLS', cxx: 'kIpProtocols', doc: 'Transport protocols conntrack entries are deleted by (IPPROTO_*).', entries: [
    ['tcp', 'IPPROTO_TCP'], ['udp', 'IPPROTO_UDP'], ['sctp', 'IPPROTO_SCTP'],
  ] },
  { ts: 'MONITOR_GROUPS', cxx: 'kMonitorGroups', doc: "The multicast groups a monitor joins, as netplumb's own bits (each stands for RTNLGRP_* groups).", entries: [
    ['links', 1], ['addresses', 2], ['routes', 4], ['neighbours', 8],
  ] },
  // The layout of a native NeighTable row (native/rtnl/neigh.h, read by src/neigh-table.ts).
  { ts: 'NEIGH_COLUMNS', cxx: 'kNeighColumns', doc: 'Columns of a NeighTable row (u32 each); `count` is the row width.', entries: [
    ['head', 0], ['ifindex', 1], ['present', 2], ['dstLen', 3], ['lladdrLen', 4], ['probes', 5], ['master', 6], ['linkNetnsid', 7],
    ['protocol', 8], ['vlan', 9], ['port', 10], ['vni', 11], ['srcVni', 12], ['via', 13], ['nhId', 14], ['confirmed', 15],
    ['used', 16], ['updated', 17], ['refcnt', 18], ['count', 19],
  ] },
  { ts: 'NEIGH_PRESENT', cxx: 'kNeighPresent', doc: "Bits of a NeighTable row's `present` column: which optional fields it has.", entries: [
    ['dst', 1], ['lladdr', 2], ['probes', 4], ['master', 8], ['linkNetnsid', 16], ['protocol', 32], ['vlan', 64], ['port', 128],
    ['vni', 256], ['srcVni', 512], ['via', 1024], ['nhId', 2048], ['cacheinfo', 4096],
  ] },
  // ---- nftables ----
  { ts: 'NFT_FAMILIES', cxx: 'kNftFamilies', doc: 'Table families as nft names them (NFPROTO_*).', entries: [
    ['inet', 'NFPROTO_INET'], ['ip', 'NFPROTO_IPV4'], ['arp', 'NFPROTO_ARP'], ['netdev', 'NFPROTO_NETDEV'], ['bridge', 'NFPROTO_BRIDGE'],
    ['ip6', 'NFPROTO_IPV6'],
  ] },
  { ts: 'NFT_MSG', cxx: 'kNftMsg', doc: 'nftables message numbers (NFT_MSG_*).', entries: [
    ['NEWTABLE', 'NFT_MSG_NEWTABLE'], ['DELTABLE', 'NFT_MSG_DELTABLE'], ['NEWCHAIN', 'NFT_MSG_NEWCHAIN'], ['DELCHAIN', 'NFT_MSG_DELCHAIN'],
    ['NEWRULE', 'NFT_MSG_NEWRULE'], ['DELRULE', 'NFT_MSG_DELRULE'], ['NEWSET', 'NFT_MSG_NEWSET'], ['DELSET', 'NFT_MSG_DELSET'],
    ['NEWSETELEM', 'NFT_MSG_NEWSETELEM'], ['DELSETELEM', 'NFT_MSG_DELSETELEM'],
    ['DESTROYTABLE', 26, 'NFT_MSG_DESTROYTABLE'], ['DESTROYCHAIN', 27, 'NFT_MSG_DESTROYCHAIN'], ['DESTROYRULE', 28, 'NFT_MSG_DESTROYRULE'],
    ['DESTROYSET', 29, 'NFT_MSG_DESTROYSET'], ['DESTROYSETELEM', 30, 'NFT_MSG_DESTROYSETELEM'],
  ] },
  { ts: 'NLM_F', cxx: 'kNlmFlags', doc: 'netlink message flags the nftables verbs use.', entries: [
    ['REPLACE', 'NLM_F_REPLACE'], ['EXCL', 'NLM_F_EXCL'], ['CREATE', 'NLM_F_CREATE'], ['APPEND', 'NLM_F_APPEND'], ['ECHO', 'NLM_F_ECHO'],
  ] },
  { ts: 'NFT_HOOKS', cxx: 'kNftHooks', doc: 'Chain hooks (NF_INET_*; ingress and egress as the netdev family numbers them).', entries: [
    ['prerouting', 'NF_INET_PRE_ROUTING'], ['input', 'NF_INET_LOCAL_IN'], ['forward', 'NF_INET_FORWARD'], ['output', 'NF_INET_LOCAL_OUT'],
    ['postrouting', 'NF_INET_POST_ROUTING'], ['ingress', 'NF_NETDEV_INGRESS'], ['egress', 'NF_NETDEV_EGRESS'],
  ] },
  { ts: 'NFT_INET_INGRESS', cxx: 'kNftInetIngress', doc: 'The ingress hook of an inet table (NF_INET_INGRESS).', entries: [['ingress', 'NF_INET_INGRESS']] },
  { ts: 'NFT_PRIORITIES', cxx: 'kNftPriorities', doc: 'Named chain priorities, as nft spells them (NF_IP_PRI_*).', entries: [
    ['raw', 'NF_IP_PRI_RAW'], ['mangle', 'NF_IP_PRI_MANGLE'], ['dstnat', 'NF_IP_PRI_NAT_DST'], ['filter', 'NF_IP_PRI_FILTER'],
    ['security', 'NF_IP_PRI_SECURITY'], ['srcnat', 'NF_IP_PRI_NAT_SRC'],
  ] },
  { ts: 'NFT_VERDICTS', cxx: 'kNftVerdicts', doc: 'Verdict codes (NF_DROP, NF_ACCEPT, NFT_CONTINUE...).', entries: [
    ['drop', 'NF_DROP'], ['accept', 'NF_ACCEPT'], ['continue', 'NFT_CONTINUE'], ['break', 'NFT_BREAK'], ['jump', 'NFT_JUMP'],
    ['goto', 'NFT_GOTO'], ['return', 'NFT_RETURN'],
  ] },
  { ts: 'NFT_PAYLOAD_BASES', cxx: 'kNftPayloadBases', doc: 'Payload bases (NFT_PAYLOAD_*_HEADER).', entries: [
    ['link', 'NFT_PAYLOAD_LL_HEADER'], ['network', 'NFT_PAYLOAD_NETWORK_HEADER'], ['transport', 'NFT_PAYLOAD_TRANSPORT_HEADER'],
    ['inner', 'NFT_PAYLOAD_INNER_HEADER'],
  ] },
  { ts: 'NFT_CMP_OPS', cxx: 'kNftCmpOps', doc: 'cmp operators (NFT_CMP_*).', entries: [
    ['eq', 'NFT_CMP_EQ'], ['neq', 'NFT_CMP_NEQ'], ['lt', 'NFT_CMP_LT'], ['lte', 'NFT_CMP_LTE'], ['gt', 'NFT_CMP_GT'], ['gte', 'NFT_CMP_GTE'],
  ] },
  { ts: 'NFT_RANGE_OPS', cxx: 'kNftRangeOps', doc: 'range operators (NFT_RANGE_*).', entries: [['eq', 'NFT_RANGE_EQ'], ['neq', 'NFT_RANGE_NEQ']] },
  { ts: 'NFT_BITWISE_OPS', cxx: 'kNftBitwiseOps', doc: 'bitwise operations (NFT_BITWISE_*).', entries: [
    ['bool', 'NFT_BITWISE_BOOL'], ['lshift', 'NFT_BITWISE_LSHIFT'], ['rshift', 'NFT_BITWISE_RSHIFT'],
  ] },
  { ts: 'NFT_META_KEYS', cxx: 'kNftMetaKeys', doc: 'meta keys (NFT_META_*).', entries: [
    ['len', 'NFT_META_LEN'], ['protocol', 'NFT_META_PROTOCOL'], ['priority', 'NFT_META_PRIORITY'], ['mark', 'NFT_META_MARK'],
    ['iif', 'NFT_META_IIF'], ['oif', 'NFT_META_OIF'], ['iifname', 'NFT_META_IIFNAME'], ['oifname', 'NFT_META_OIFNAME'],
    ['iiftype', 'NFT_META_IIFTYPE'], ['oiftype', 'NFT_META_OIFTYPE'], ['skuid', 'NFT_META_SKUID'], ['skgid', 'NFT_META_SKGID'],
    ['nftrace', 'NFT_META_NFTRACE'], ['rtclassid', 'NFT_META_RTCLASSID'], ['secmark', 'NFT_META_SECMARK'], ['nfproto', 'NFT_META_NFPROTO'],
    ['l4proto', 'NFT_META_L4PROTO'], ['ibrname', 'NFT_META_BRI_IIFNAME'], ['obrname', 'NFT_META_BRI_OIFNAME'],
    ['pkttype', 'NFT_META_PKTTYPE'], ['cpu', 'NFT_META_CPU'], ['iifgroup', 'NFT_META_IIFGROUP'], ['oifgroup', 'NFT_META_OIFGROUP'],
    ['cgroup', 'NFT_META_CGROUP'], ['random', 'NFT_META_PRANDOM'],
  ] },
  { ts: 'NFT_CT_KEYS', cxx: 'kNftCtKeys', doc: 'ct keys (NFT_CT_*).', entries: [
    ['state', 'NFT_CT_STATE'], ['direction', 'NFT_CT_DIRECTION'], ['status', 'NFT_CT_STATUS'], ['mark', 'NFT_CT_MARK'],
    ['secmark', 'NFT_CT_SECMARK'], ['expiration', 'NFT_CT_EXPIRATION'], ['helper', 'NFT_CT_HELPER'], ['l3proto', 'NFT_CT_L3PROTOCOL'],
    ['saddr', 'NFT_CT_SRC'], ['daddr', 'NFT_CT_DST'], ['protocol', 'NFT_CT_PROTOCOL'], ['proto-src', 'NFT_CT_PROTO_SRC'],
    ['proto-dst', 'NFT_CT_PROTO_DST'], ['label', 'NFT_CT_LABELS'], ['packets', 'NFT_CT_PKTS'], ['bytes', 'NFT_CT_BYTES'],
    ['avgpkt', 'NFT_CT_AVGPKT'], ['zone', 'NFT_CT_ZONE'], ['event', 'NFT_CT_EVENTMASK'], ['ip saddr', 'NFT_CT_SRC_IP'],
    ['ip daddr', 'NFT_CT_DST_IP'], ['ip6 saddr', 'NFT_CT_SRC_IP6'], ['ip6 daddr', 'NFT_CT_DST_IP6'], ['id', 'NFT_CT_ID'],
  ] },
  { ts: 'NFT_CT_DIRECTIONS', cxx: 'kNftCtDirections', doc: 'ct directions (IP_CT_DIR_*).', entries: [['original', 0, 'IP_CT_DIR_ORIGINAL'], ['reply', 1, 'IP_CT_DIR_REPLY']] },
  { ts: 'NFT_FIB_FLAGS', cxx: 'kNftFibFlags', doc: 'fib flags (NFTA_FIB_F_*).', entries: [
    ['saddr', 'NFTA_FIB_F_SADDR'], ['daddr', 'NFTA_FIB_F_DADDR'], ['mark', 'NFTA_FIB_F_MARK'], ['iif', 'NFTA_FIB_F_IIF'],
    ['oif', 'NFTA_FIB_F_OIF'], ['present', 'NFTA_FIB_F_PRESENT'],
  ] },
  { ts: 'NFT_FIB_RESULTS', cxx: 'kNftFibResults', doc: 'What a fib lookup puts in its register (NFT_FIB_RESULT_*).', entries: [
    ['oif', 'NFT_FIB_RESULT_OIF'], ['oifname', 'NFT_FIB_RESULT_OIFNAME'], ['type', 'NFT_FIB_RESULT_ADDRTYPE'],
  ] },
  { ts: 'NFT_NAT_TYPES', cxx: 'kNftNatTypes', doc: 'NAT types (NFT_NAT_*).', entries: [['snat', 'NFT_NAT_SNAT'], ['dnat', 'NFT_NAT_DNAT']] },
  { ts: 'NFT_NAT_FLAGS', cxx: 'kNftNatFlags', doc: 'NAT range flags (NF_NAT_RANGE_*), as nft names them.', entries: [
    ['map-ips', 'NF_NAT_RANGE_MAP_IPS'], ['proto-specified', 'NF_NAT_RANGE_PROTO_SPECIFIED'], ['random', 'NF_NAT_RANGE_PROTO_RANDOM'],
    ['persistent', 'NF_NAT_RANGE_PERSISTENT'], ['fully-random', 'NF_NAT_RANGE_PROTO_RANDOM_FULLY'], ['proto-offset', 'NF_NAT_RANGE_PROTO_OFFSET'],
    ['netmap', 'NF_NAT_RANGE_NETMAP'],
  ] },
  { ts: 'NFT_REJECT_TYPES', cxx: 'kNftRejectTypes', doc: 'reject types (NFT_REJECT_*).', entries: [
    ['icmp', 'NFT_REJECT_ICMP_UNREACH'], ['tcp-reset', 'NFT_REJECT_TCP_RST'], ['icmpx', 'NFT_REJECT_ICMPX_UNREACH'],
  ] },
  { ts: 'NFT_LIMIT_TYPES', cxx: 'kNftLimitTypes', doc: 'limit types (NFT_LIMIT_*).', entries: [['packets', 'NFT_LIMIT_PKTS'], ['bytes', 'NFT_LIMIT_PKT_BYTES']] },
  { ts: 'NFT_SET_FLAGS', cxx: 'kNftSetFlags', doc: 'Set flags (NFT_SET_*).', entries: [
    ['anonymous', 'NFT_SET_ANONYMOUS'], ['constant', 'NFT_SET_CONSTANT'], ['interval', 'NFT_SET_INTERVAL'], ['map', 'NFT_SET_MAP'],
    ['timeout', 'NFT_SET_TIMEOUT'], ['dynamic', 'NFT_SET_EVAL'], ['object', 'NFT_SET_OBJECT'], ['concat', 'NFT_SET_CONCAT'],
    ['expr', 'NFT_SET_EXPR'],
  ] },
  { ts: 'NFT_SET_POLICIES', cxx: 'kNftSetPolicies', doc: 'Set policies (NFT_SET_POL_*).', entries: [['performance', 'NFT_SET_POL_PERFORMANCE'], ['memory', 'NFT_SET_POL_MEMORY']] },
  { ts: 'NFT_TABLE_FLAGS', cxx: 'kNftTableFlags', doc: 'Table flags (NFT_TABLE_F_*).', entries: [
    ['dormant', 'NFT_TABLE_F_DORMANT'], ['owner', 'NFT_TABLE_F_OWNER'], ['persist', 4, 'NFT_TABLE_F_PERSIST'],
  ] },
  { ts: 'NFT_VALUES', cxx: 'kNftValues', doc: 'Single nftables numbers: the interval-end element flag, the verdict data type, the registers (0 the verdict, 1-4 of 16 bytes, 8-23 the same space in 4-byte slots).', entries: [
    ['ELEM_INTERVAL_END', 'NFT_SET_ELEM_INTERVAL_END'], ['DATA_VERDICT', 'NFT_DATA_VERDICT'], ['REG_VERDICT', 'NFT_REG_VERDICT'],
    ['REG_1', 'NFT_REG_1'], ['REG32_00', 'NFT_REG32_00'],
  ] },
];

// The values of every macro, by compiling and running one C program.
function resolve() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netplumb-constants-'));
  try {
    const macros = [...new Set(GROUPS.flatMap((g) => g.entries.filter(([, m]) => typeof m === 'string').map(([, m]) => m)))];
    const c = [
      ...HEADERS.map((h) => `#include <${h}>`), '#include <stdio.h>', 'int main(void) {',
      ...macros.map((m) => `  printf("%s %lld\\n", "${m}", (long long)(${m}));`), '  return 0;', '}',
    ].join('\n');
    writeFileSync(path.join(dir, 'c.c'), c);
    const cc = spawnSync(process.env.CC ?? 'cc', ['-o', path.join(dir, 'c'), path.join(dir, 'c.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gen-constants: the C compiler failed:\n${cc.stderr}`);
    const out = spawnSync(path.join(dir, 'c'), { encoding: 'utf8' });
    return new Map(out.stdout.trim().split('\n').map((l) => l.split(' ')).map(([m, v]) => [m, Number(v)]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The lookups native code uses the tables with (written into constants.h after Name).
const LOOKUPS = `// The value of a name, at compile time: a name not in the table does not compile.
template <size_t N>
consteval int64_t of(const Name (&table)[N], std::string_view name) {
  for (const Name& n : table) {
    if (std::string_view(n.name) == name) return n.value;
  }
  throw "no such name in the table";
}

// The name of a value, or nullptr.
template <size_t N>
const char* name_of(const Name (&table)[N], int64_t value) {
  for (const Name& n : table) {
    if (n.value == value) return n.name;
  }
  return nullptr;
}

// The value of a name, or nullopt.
template <size_t N>
std::optional<int64_t> value_of(const Name (&table)[N], std::string_view name) {
  for (const Name& n : table) {
    if (name == n.name) return n.value;
  }
  return std::nullopt;
}

// "a, b, c": the names, for messages.
template <size_t N>
std::string list(const Name (&table)[N]) {
  std::string s;
  for (const Name& n : table) s += (s.empty() ? "" : ", ") + std::string(n.name);
  return s;
}
`.split('\n');

const key = (name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `'${name}'`);
const HEAD = 'Generated by scripts/gen-constants.mjs from its table and the uapi headers; do not edit.';

/** The two files' text, for this table and these values. */
export function render(values) {
  const value = ([, m]) => (typeof m === 'number' ? m : values.get(m));
  const macro = ([, m, named]) => (typeof m === 'string' ? m : named ?? 'netplumb');
  const ts = [`// ${HEAD}`, '// Names of the kernel\'s numbers, for src/ and native/ alike (native/constants.h).', ''];
  const h = [
    `// ${HEAD}`, '// The same table as src/constants.ts: names of the kernel\'s numbers, one table for both languages.',
    '#pragma once', '', '#include <cstddef>', '#include <cstdint>', '#include <optional>', '#include <string>', '#include <string_view>', '',
    'namespace np::names {', '',
    'struct Name {', '  const char* name;', '  int64_t value;', '};', '',
    ...LOOKUPS,
  ];
  // Entries packed into lines of at most `width` (the tables read as lists, not columns).
  const pack = (items, indent, width = 116) => {
    const out = [];
    let line = indent;
    for (const it of items) {
      if (line.length + it.length + 1 > width && line.trim()) {
        out.push(line.trimEnd());
        line = indent;
      }
      line += `${it} `;
    }
    if (line.trim()) out.push(line.trimEnd());
    return out;
  };
  // A table on one line when it fits, else its entries packed between the braces.
  const table = (open, items, close, indent, pad = ' ') => {
    const one = `${open}${pad}${items.join(' ').replace(/,$/, '')}${pad}${close}`;
    return one.length <= 116 ? [one] : [open, ...pack(items, indent), close];
  };
  for (const g of GROUPS) {
    ts.push(`/** ${g.doc} */`);
    ts.push(...table(`export const ${g.ts} = {`, g.entries.map((e) => `${key(e[0])}: ${value(e)},`), '} as const;', '  '), '');
    // The macros each value stands for, once per table, for grepping.
    h.push(`// ${g.doc}`, ...pack(g.entries.map(macro), '//   '));
    h.push(...table(`inline constexpr Name ${g.cxx}[] = {`, g.entries.map((e) => `{"${e[0]}", ${value(e)}},`), '};', '    ', ''), '');
  }
  h.push('}  // namespace np::names', '');
  return { ts: ts.join('\n'), h: h.join('\n') };
}

export const OUT = { ts: path.join(root, 'src', 'constants.ts'), h: path.join(root, 'native', 'constants.h') };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { ts, h } = render(resolve());
  const check = process.argv.includes('--check');
  let stale = false;
  for (const [file, text] of [[OUT.ts, ts], [OUT.h, h]]) {
    let old = '';
    try {
      old = readFileSync(file, 'utf8');
    } catch {
      // new
    }
    if (old === text) continue;
    stale = true;
    if (!check) writeFileSync(file, text);
    console.error(`${check ? 'stale' : 'wrote'} ${path.relative(root, file)}`);
  }
  if (check && stale) process.exit(1);
}
