// Runs the GraphQL-over-HTTP server audit from graphql-http and prints one JSON line.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const results = await auditServer({ url });
const summary = results.map((r) => ({
  id: r.id,
  name: r.name,
  status: r.status,
  reason: r.reason ?? null,
}));
console.log(JSON.stringify(summary));
