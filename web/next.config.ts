import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The app is a client of the GraphQL server: no server data fetching, no image optimiser.
  images: { unoptimized: true },
  turbopack: { root: import.meta.dirname },
};

export default config;
