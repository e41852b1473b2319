-- The worker's reconciler looks for side effects whose job was lost among live orders (placed or
-- needing attention) every few seconds: an index on status finds those few among the many completed
-- ones without a scan. Status changes only when an order settles, so most order updates stay HOT.

-- CreateIndex
CREATE INDEX "Order_status_idx" ON "Order"("status");
