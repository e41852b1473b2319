// nginx in front of the cluster's web processes: a configuration of our own in a state directory of its
// own (pid file, logs, temp files), run in the foreground as a child of the cluster, as the current user.
//
// No sticky sessions: requests and socket.io connections go round-robin to any web process, because
// the shop's pages open socket.io over WebSocket only (app/_lib/realtime.ts). A WebSocket is one TCP
// connection, held by one web process from handshake to close; HTTP long-polling would spread one
// socket.io session over many requests that must all reach the process that opened it. When a web
// process dies, its sockets drop, the pages reconnect through nginx to another one, watch again and
// get the order's snapshot (versions make the later pushes apply in order).
// @see https://socket.io/docs/v4/using-multiple-nodes/
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** nginx's path: found, or installed with apt-get (scripts/ensure-nginx.sh prints it on its last line);
 * null when neither worked (the script says why on stderr when it is inherited). */
export function findNginx(stderr: "inherit" | "pipe"): string | null {
  try {
    const found = execFileSync("bash", ["scripts/ensure-nginx.sh"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", stderr],
    });
    return found.toString().trim().split("\n").at(-1) || null;
  } catch {
    return null;
  }
}

export interface NginxSite {
  /** The state directory: nginx.conf, nginx.pid, error.log, access.log and temp directories. */
  dir: string;
  host: string;
  port: number;
  webPorts: number[];
}

/**
 * What one client address may hold and ask of the shop through nginx, so that one client cannot take
 * every connection or request from the others. A browser opens at most six connections per host plus a
 * WebSocket per tab, and a page asks a few dozen things when it loads, then about one a second; an office
 * behind one NAT address is several such browsers. Over a limit nginx answers 429 with Retry-After.
 * Connections count while a request on them is being answered (a WebSocket, for as long as it is open);
 * an idle connection does not count, so it is closed soon instead (IDLE_TIMEOUT_S).
 * This machine's own 127.0.0.1 and ::1 are not limited: the load generator (`npm run load` against the
 * cluster) runs there, and a TLS terminator on this machine in front of nginx would make every client
 * look like it, so per-address limits belong in that proxy then (see the README).
 * @see https://nginx.org/en/docs/http/ngx_http_limit_conn_module.html
 */
export const CLIENT_LIMITS = {
  connections: 64,
  requestsPerSecond: 50,
  /** Requests over the rate a client may send at once before it is refused (a page load's assets). */
  burst: 200,
} as const;
/** A client that sends no complete request header (or body, or keeps a connection idle) this long is
 * cut off: a socket held open without a request costs nginx a connection, and no limit counts it. */
const IDLE_TIMEOUT_S = 10;

/** `[::1]` for an IPv6 address, as nginx's `listen` wants it. */
function listenAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function nginxConfig(site: NginxSite): string {
  const inDir = (name: string) => path.join(site.dir, name);
  const servers = site.webPorts
    .map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=10s;`)
    .join("\n");
  return `# Written by tools/cluster/nginx.ts for one run of the cluster; rewritten on every start.
worker_processes 1;
pid ${inDir("nginx.pid")};
error_log ${inDir("error.log")} warn;

events {
  worker_connections 4096;
}

http {
  access_log ${inDir("access.log")};
  client_body_temp_path ${inDir("temp/client_body")};
  proxy_temp_path ${inDir("temp/proxy")};
  fastcgi_temp_path ${inDir("temp/fastcgi")};
  uwsgi_temp_path ${inDir("temp/uwsgi")};
  scgi_temp_path ${inDir("temp/scgi")};

  # Limits per client address (CLIENT_LIMITS in tools/cluster/nginx.ts); an empty key is not counted,
  # which is how this machine's own address is left out.
  geo $storefront_limited {
    default 1;
    127.0.0.1 0;
    ::1 0;
  }
  map $storefront_limited $storefront_client {
    0 "";
    1 $binary_remote_addr;
  }
  limit_conn_zone $storefront_client zone=storefront_connections:10m;
  limit_req_zone $storefront_client zone=storefront_requests:10m rate=${CLIENT_LIMITS.requestsPerSecond}r/s;
  limit_conn_status 429;
  limit_req_status 429;
  client_header_timeout ${IDLE_TIMEOUT_S}s;
  client_body_timeout ${IDLE_TIMEOUT_S}s;
  # The second figure is sent as "Keep-Alive: timeout=…": clients (Node's http.Agent, browsers) drop an
  # idle connection before nginx closes it, instead of sending a request into a closing socket.
  keepalive_timeout ${IDLE_TIMEOUT_S}s ${IDLE_TIMEOUT_S - 2}s;

  # A WebSocket handshake asks to upgrade the connection; every other request closes its connection
  # to the web process when answered.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }

  upstream storefront_web {
    # Round-robin, no stickiness (see the header of tools/cluster/nginx.ts). A web process that
    # refuses a connection is skipped for 10 s and the request goes to the next one.
${servers}
  }

  server {
    listen ${listenAddress(site.host, site.port)};
    # The shop's own limit (100 KB per request) answers in words; this one only stops the absurd.
    client_max_body_size 1m;
    limit_conn storefront_connections ${CLIENT_LIMITS.connections};
    limit_req zone=storefront_requests burst=${CLIENT_LIMITS.burst} nodelay;
    error_page 429 @too_many;

    location @too_many {
      default_type text/plain;
      add_header Retry-After 1 always;
      return 429 "Too many requests or connections from your address at once. Please try again in a moment.\n";
    }

    location / {
      proxy_pass http://storefront_web;
      proxy_http_version 1.1;
      # The browser's Host, so the shop's same-origin checks see the address the browser used.
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_connect_timeout 2s;
      # A synchronous checkout may take many seconds; a WebSocket stays open for as long as the page
      # does (socket.io pings every 25 s, well inside this).
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      # Only a connection that failed is tried on the next web process: a checkout that reached one is
      # never sent twice (it carries an idempotency key anyway).
      proxy_next_upstream error timeout;
    }
  }
}
`;
}

export async function writeNginxConfig(site: NginxSite): Promise<string> {
  const file = path.join(site.dir, "nginx.conf");
  await writeFile(file, nginxConfig(site));
  return file;
}

/** nginx's arguments for a foreground run: `-p` and `-e` keep it out of /etc/nginx and /var/log. */
export function nginxArgs(dir: string, configFile: string): string[] {
  return ["-p", dir, "-c", configFile, "-e", path.join(dir, "error.log"), "-g", "daemon off;"];
}
