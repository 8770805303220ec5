// The network drivers, by name. A new kind of network is one module implementing
// NetworkDriver (../driver.ts) and one line here.
import type { NetworkDriver } from '../driver';
import { bridgeDriver } from './bridge';
import { macvlanDriver } from './macvlan';
import { overlayDriver } from './overlay';

const registry = new Map<string, NetworkDriver>();

/** Makes a driver available to Networks.create({ driver: name }). */
export function registerDriver(driver: NetworkDriver): void {
  if (typeof driver?.name !== 'string' || !/^[a-z][a-z0-9_-]{0,31}$/.test(driver.name)) {
    throw new TypeError('a driver needs a name of [a-z][a-z0-9_-]{0,31}');
  }
  if (registry.has(driver.name)) throw new TypeError(`a driver named ${driver.name} is registered already`);
  registry.set(driver.name, driver as NetworkDriver);
}

/** The driver of a name (TypeError naming the registered ones if there is none). */
export function driverOf(name: unknown): NetworkDriver {
  const d = typeof name === 'string' ? registry.get(name) : undefined;
  if (!d) throw new TypeError(`driver must be one of ${[...registry.keys()].join(', ')}, got ${String(name)}`);
  return d;
}

registerDriver(bridgeDriver);
registerDriver(overlayDriver);
registerDriver(macvlanDriver);

export { OverlayNetwork, VXLAN_PORT, type OverlayUpdate, type OverlayUpdateResult, type OverlayState } from './overlay';
