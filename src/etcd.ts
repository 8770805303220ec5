// netplumb/etcd: the overlay's control plane over etcd (docs/overlay-etcd.md). An entry
// point of its own: etcd3 and gRPC are loaded only here, and only when a control plane
// connects, so the main entry and netplumb/networks do without them.
export {
  OverlayControlPlane, type ControlPlaneOptions, type ControlPlaneStats, type EtcdConnection, type OverlayDefinition,
  type OverlayJoinOptions,
} from './network/controlplane/etcd';
