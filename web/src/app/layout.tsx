import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";

import { Providers } from "@/app/providers";
import "./globals.css";

export const metadata: Metadata = {
  title: "Holo-Mate",
  description: "Talk with your AI companions",
};

const DEFAULT_URL = "http://127.0.0.1:8000/graphql";

/** The server's GraphQL URL, read when the page is served so one build runs anywhere.
 *
 * HOLOMATE_URL (runtime) wins over NEXT_PUBLIC_HOLOMATE_URL, which Next inlines at build time. */
async function graphqlUrl(): Promise<string> {
  await connection(); // render per request: the environment of `next start`, not of `next build`
  return process.env["HOLOMATE_URL"] || process.env.NEXT_PUBLIC_HOLOMATE_URL || DEFAULT_URL;
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const url = await graphqlUrl();
  return (
    <html lang="en">
      <body>
        <Providers graphqlUrl={url}>{children}</Providers>
      </body>
    </html>
  );
}
