// Types for scripts/system-packages.mjs (imported by test/system-packages.test.ts).
export interface SystemPackage {
  section: string;
  name: string;
  probes: string[];
}
export const LIST: string;
export const TEST_SECTIONS: string[];
export function readPackages(file?: string): SystemPackage[];
export function onPath(cmd: string, envPath?: string): boolean;
export function probeFound(probe: string, envPath?: string): boolean;
export function missingPackages(sections?: string[], envPath?: string): { name: string; missing: string[] }[];
export function missingLine(missing: { name: string; missing: string[] }[]): string;
