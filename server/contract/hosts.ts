// Which host names reach only this machine. Shared by the web process (is the shop exposed?) and the
// load generator (may it send to this target?), so browser-safe: no node:net.

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Names and addresses that reach only this machine. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost") || bare === "::1") return true;
  const octets = IPV4.exec(bare)?.slice(1).map(Number) ?? [];
  return octets[0] === 127 && octets.every((octet) => octet <= 255);
}
