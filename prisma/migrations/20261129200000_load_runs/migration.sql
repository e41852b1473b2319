-- Saved Rush hour runs (/dev/rush): settings, per-second samples and summary of each load run.

-- CreateTable
CREATE TABLE "LoadRun" (
    "id" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "experiment" TEXT,
    "status" TEXT NOT NULL,
    "settings" JSONB NOT NULL,
    "samples" JSONB NOT NULL,
    "summary" JSONB,
    "problem" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "endedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LoadRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "LoadRun_startedAt_idx" ON "LoadRun"("startedAt");
