// Types of etcd-cluster.mjs for the tests.
export interface Member { name: string; client: number; peer: number; pid: number; killed?: boolean }
export interface Relay { endpoints: string[]; cut(): Promise<void>; heal(): Promise<void>; close(): void }
export interface Certs { ca: string; cert: string; key: string; clientCert: string; clientKey: string; strangerCert: string; strangerKey: string }
export interface Cluster {
  dir: string;
  certs?: Certs;
  members: Member[];
  endpoints: string[];
  ctl(args: string[], endpoints?: string[]): string;
  dump(prefix: string): Record<string, string>;
  revision(): number;
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
  tls(): { ca: Buffer; cert: Buffer; key: Buffer } | undefined;
  relay(): Promise<Relay>;
}
export function freePort(): Promise<number>;
export function etcdBinaries(): { etcd?: string; etcdctl?: string; missing?: string };
export function makeCerts(dir: string): Certs;
export function startCluster(opts?: { members?: number; tls?: boolean; log?: boolean }): Promise<Cluster>;
