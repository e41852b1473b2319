// The simulated email provider's outbox, read back as a mailbox: every email it "sent".
import { z } from "zod";
import { prisma } from "../db";

const sentEmail = z.object({ to: z.string(), subject: z.string(), text: z.string(), orderId: z.string() });

export interface MailboxEmail extends z.infer<typeof sentEmail> {
  id: string;
  sentAt: string;
}

export async function mailbox(limit = 50): Promise<MailboxEmail[]> {
  const calls = await prisma.downstreamCall.findMany({
    where: { service: "email", operation: "send" },
    orderBy: { createdAt: "desc" },
    take: limit,
    select: { id: true, result: true, createdAt: true },
  });
  return calls.flatMap((call) => {
    const email = sentEmail.safeParse(call.result);
    return email.success ? [{ id: call.id, sentAt: call.createdAt.toISOString(), ...email.data }] : [];
  });
}
