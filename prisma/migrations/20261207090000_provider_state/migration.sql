-- The simulated providers' state machines (server/downstream/machines.ts): one row per subject (an
-- authorization at the gateway, a shipment at the carrier), moved only along the transitions the
-- provider allows, in the same statement that records the call in its ledger.
CREATE TABLE "ProviderState" (
    "service" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "state" TEXT NOT NULL,

    CONSTRAINT "ProviderState_pkey" PRIMARY KEY ("service","subject")
);
