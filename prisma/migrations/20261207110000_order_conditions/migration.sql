-- The conditions an order ran under (server/contract/conditions.ts): the fault knobs in force at
-- checkout and the preset they matched. Null for orders placed before they were recorded.

-- AlterTable
ALTER TABLE "Order" ADD COLUMN "conditions" JSONB;
