{
  "variables": {
    # 1: also export the allocator diagnostics scripts/soak.mjs reads (native/ops/debug_ops.cc).
    "netplumb_debug%": 0
  },
  "targets": [
    {
      "target_name": "netplumb",
      "conditions": [
        ["OS!='linux'", { "type": "none" }],
        ["netplumb_debug in (1, '1', 'true')", { "defines": ["NETPLUMB_DEBUG_OPS"] }]
      ],
      "sources": [
        "native/addon.cc",
        "native/netlink/builder.cc",
        "native/netlink/parser.cc",
        "native/netlink/socket.cc",
        "native/netns/netns.cc",
        "native/netns/thread.cc",
        "native/rtnl/link.cc",
        "native/rtnl/ip.cc",
        "native/rtnl/addr.cc",
        "native/rtnl/route.cc",
        "native/rtnl/link_spec.cc",
        "native/rtnl/neigh.cc",
        "native/ops/errors.cc",
        "native/ops/reader.cc",
        "native/ops/async.cc",
        "native/ops/values.cc",
        "native/ops/entry.cc",
        "native/ops/netns_ops.cc",
        "native/ops/link_ops.cc",
        "native/ops/rtnl_steps.cc",
        "native/ops/rtnl_batch.cc",
        "native/ops/addr_route_ops.cc",
        "native/ops/raw_ops.cc",
        "native/ops/neigh_ops.cc",
        "native/ops/sysctl_ops.cc",
        "native/ops/monitor_ops.cc",
        "native/ops/nft_js.cc",
        "native/ops/nft_ops.cc",
        "native/ops/nft_codec.cc",
        "native/ops/conntrack_ops.cc",
        "native/ops/debug_ops.cc",
        "native/nft/nft.cc",
        "native/nft/datatypes.cc",
        "native/nft/elements.cc",
        "native/nft/expr.cc",
        "native/nft/expr/bitwise.cc",
        "native/nft/expr/cmp.cc",
        "native/nft/expr/counter.cc",
        "native/nft/expr/ct.cc",
        "native/nft/expr/fib.cc",
        "native/nft/expr/immediate.cc",
        "native/nft/expr/limit.cc",
        "native/nft/expr/log.cc",
        "native/nft/expr/lookup.cc",
        "native/nft/expr/masq.cc",
        "native/nft/expr/meta.cc",
        "native/nft/expr/nat.cc",
        "native/nft/expr/notrack.cc",
        "native/nft/expr/payload.cc",
        "native/nft/expr/range.cc",
        "native/nft/expr/redir.cc",
        "native/nft/expr/reject.cc",
        "native/nft/table.cc",
        "native/nft/chain.cc",
        "native/nft/rule.cc",
        "native/nft/set.cc",
        "native/nft/batch.cc",
        "native/nfct/conntrack.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags": ["-fvisibility=hidden"],
      "ldflags": ["-pthread"]
    },
    {
      "target_name": "netplumb-cni",
      "type": "executable",
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ],
      "sources": ["native/cni/shim.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fno-strict-aliasing"],
      "ldflags": ["-Wl,--as-needed"]
    }
  ]
}
