// Next.js serves the pages; server/main.ts hosts it together with tRPC and socket.io on one port.
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // `npm run dev` serves http://127.0.0.1:3000 (server/main.ts listens on loopback by default); Next's
  // dev server refuses its hot-reload socket to any origin but localhost unless told.
  allowedDevOrigins: ["127.0.0.1"],
  // Server-only packages never belong in a bundle (see STACK.md).
  serverExternalPackages: ["bullmq", "ioredis", "pg", "@prisma/adapter-pg", "socket.io"],
};

export default nextConfig;
