// Prisma CLI configuration. Prisma 7 does not load .env here and env() throws when a variable is
// unset, so read DATABASE_URL leniently; the app validates its own config in server/config.ts.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations", seed: "tsx prisma/seed.ts" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
