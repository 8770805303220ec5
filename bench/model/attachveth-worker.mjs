// A child process of the attachveth-procs peer (bench/model/netplumb.mjs): attaches the
// containers its parent sends it with attachVeth { create }, serially, the way the
// attachveth peer does in the parent, and answers with each attach's ms. Several of these
// at once show how many attaches per second the machine (its CPUs and the kernel's RTNL
// lock) gives this work however many threads or processes ask.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [dist, firewallPath] = process.argv.slice(2);
const np = require(dist);
const firewallMod = require(firewallPath);
const T = { family: 'inet', table: 'netplumb' };

const host = await np.Netns.current();

async function attach({ containers, bridge, gateway, netnsDir, ports, containerPort }) {
  const times = [];
  for (const c of containers) {
    const s = performance.now();
    const { netns } = await np.attachVeth(host, { create: c.ns, netnsDir }, {
      bridge, hostIfname: `av${c.i}`, address: c.cidr, gateway, loUp: true,
    });
    netns.close();
    if (ports) {
      const tx = host.nft.transaction();
      const endpoint = { ip: c.ip, publish: [{ hostPort: c.hostPort, containerPort, protocol: 'tcp' }] };
      for (const { set, el } of firewallMod.portElements(endpoint)) tx.createElements({ ...T, set, elements: [el] });
      tx.commitSync();
    }
    times.push(performance.now() - s);
  }
  return times;
}

process.on('message', (m) => {
  if (m.cmd === 'exit') {
    host.close();
    process.disconnect();
    return;
  }
  attach(m).then(
    (times) => process.send({ times }),
    (e) => process.send({ error: e.message }),
  );
});
process.send({ ready: true });
