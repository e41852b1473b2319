// The one Prisma client of a process (Prisma 7: query compiler + the pg driver adapter).
// pg connects lazily, so importing this module opens no connection.
import { PrismaPg } from "@prisma/adapter-pg";
import { config } from "./config";
import { PrismaClient } from "./generated/prisma/client";

export const prisma = new PrismaClient({
  adapter: new PrismaPg({ connectionString: config.DATABASE_URL, max: 10 }),
});

export type Db = typeof prisma;
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];
