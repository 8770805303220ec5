{
  "targets": [
    {
      "target_name": "netplumb",
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
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
        "native/ops/js.cc",
        "native/ops/netns_ops.cc",
        "native/ops/link_ops.cc",
        "native/ops/rtnl_ops.cc",
        "native/ops/raw_ops.cc",
        "native/ops/neigh_ops.cc",
        "native/ops/sysctl_ops.cc",
        "native/ops/monitor_ops.cc"
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
    }
  ]
}
