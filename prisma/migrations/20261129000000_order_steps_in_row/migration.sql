-- An order's steps move into the order row (one JSONB object keyed by step name), so that every
-- change to an order, steps included, is one UPDATE of one row: Postgres' row lock orders concurrent
-- changes, and the row an UPDATE returns is the whole, current truth (see server/orders/change.ts).

-- AlterTable
ALTER TABLE "Order" ADD COLUMN "steps" JSONB NOT NULL DEFAULT '{}';

-- Existing orders keep their steps.
UPDATE "Order" o SET "steps" = s."steps"
FROM (
    SELECT "orderId", jsonb_object_agg("name", jsonb_build_object(
        'status', "status",
        'attempts', "attempts",
        'startedAt', to_char("startedAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'finishedAt', to_char("finishedAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'error', "error",
        'detail', "detail"
    )) AS "steps"
    FROM "OrderStep"
    GROUP BY "orderId"
) s
WHERE s."orderId" = o."id";

ALTER TABLE "Order" ALTER COLUMN "steps" DROP DEFAULT;

-- DropTable
DROP TABLE "OrderStep";
