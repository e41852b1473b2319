// Next.js serves the pages; server/main.ts hosts it together with tRPC and socket.io on one port.
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Server-only packages never belong in a bundle (see STACK.md).
  serverExternalPackages: ["bullmq", "ioredis", "pg", "@prisma/adapter-pg", "socket.io"],
};

export default nextConfig;
