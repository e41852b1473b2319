// The frame around every page: header (shop, cart, checkout-mode toggle), the page, a quiet footer.
// The shared sheet first: the components' own modules come after it and may refine it.
import "./globals.css";
import type { Metadata } from "next";
import type { ReactNode } from "react";
import { SiteFooter } from "./_components/SiteFooter";
import { SiteHeader } from "./_components/SiteHeader";
import { MODE_COLOR_VARIABLES } from "./_lib/colors";
import { Providers } from "./providers";

// Every page is rendered per request: its scripts carry the nonce of that response's Content Security
// Policy (server/http/headers.ts), which a page rendered once at build time could not know.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "Slow Morning", template: "%s · Slow Morning" },
  description: "Coffee, tea, cups and desk things, and a close look at what a checkout should wait for.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      {/* One colour per checkout mode for every stylesheet, from the module the charts read too. */}
      <body style={MODE_COLOR_VARIABLES}>
        <Providers>
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          <SiteHeader />
          <main id="main" className="page">
            {children}
          </main>
          <SiteFooter />
        </Providers>
      </body>
    </html>
  );
}
