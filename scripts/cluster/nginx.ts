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
import { writeFile } from "node:fs/promises";
import path from "node:path";

export interface NginxSite {
  /** The state directory: nginx.conf, nginx.pid, error.log, access.log and temp directories. */
  dir: string;
  host: string;
  port: number;
  webPorts: number[];
}

/** `[::1]` for an IPv6 address, as nginx's `listen` wants it. */
function listenAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function nginxConfig(site: NginxSite): string {
  const inDir = (name: string) => path.join(site.dir, name);
  const servers = site.webPorts
    .map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=10s;`)
    .join("\n");
  return `# Written by scripts/cluster/nginx.ts for one run of the cluster; rewritten on every start.
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

  # A WebSocket handshake asks to upgrade the connection; every other request closes its connection
  # to the web process when answered.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }

  upstream storefront_web {
    # Round-robin, no stickiness (see the header of scripts/cluster/nginx.ts). A web process that
    # refuses a connection is skipped for 10 s and the request goes to the next one.
${servers}
  }

  server {
    listen ${listenAddress(site.host, site.port)};
    # The shop's own limit (100 KB per request) answers in words; this one only stops the absurd.
    client_max_body_size 1m;

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
