// The signed-in session: tokens in localStorage, refreshed once per expiry.
//
// Refresh tokens are single use and rotate, and the server treats a reused one as theft (it ends
// the session). So every caller that sees an expiry shares one refresh: `renew(failedToken)`
// refreshes only if the failed token is still the current one, concurrent callers in a tab await
// the same promise, and tabs take turns through a Web Lock, re-reading localStorage inside it
// because another tab may have refreshed already. That read can still be stale (tabs see each
// other's localStorage writes with a delay): the server then answers REFRESH_ROTATED instead of
// ending the session, and we wait for the other tab's tokens to arrive.

import type { AuthFieldsFragment } from "@/gql/graphql";
import { documentText } from "@/lib/documents";
import { REFRESH } from "@/lib/operations";

const STORAGE_KEY = "holomate.session";
const EARLY_REFRESH_MS = 5_000;

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  user: { id: string; email: string; displayName: string };
}

type Listener = (tokens: Tokens | null) => void;

export class Session {
  private tokens: Tokens | null = null;
  private inflight: Promise<string | null> | null = null;
  private listeners = new Set<Listener>();

  constructor(private readonly graphqlUrl: string) {
    if (typeof window === "undefined") return;
    this.tokens = stored();
    // Another tab signed in, refreshed or signed out.
    window.addEventListener("storage", (event) => {
      if (event.key !== STORAGE_KEY) return;
      this.tokens = stored();
      for (const listener of this.listeners) listener(this.tokens);
    });
  }

  get current(): Tokens | null {
    return this.tokens;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  signIn(payload: AuthFieldsFragment): void {
    this.set({
      accessToken: payload.accessToken,
      refreshToken: payload.refreshToken,
      expiresAt: Date.parse(payload.accessTokenExpiresAt),
      user: payload.user,
    });
  }

  signOut(): void {
    this.set(null);
  }

  /** An access token valid for a few more seconds, refreshing first when it is about to expire. */
  async validToken(): Promise<string | null> {
    if (this.inflight) return this.inflight; // a refresh is under way: its token, not the spent one
    const tokens = this.tokens;
    if (!tokens) return null;
    if (tokens.expiresAt - Date.now() > EARLY_REFRESH_MS) return tokens.accessToken;
    return this.renew(tokens.accessToken);
  }

  /** The server said `failed` expired: refresh once (shared by every caller), return the new token. */
  renew(failed: string): Promise<string | null> {
    const tokens = this.tokens;
    if (!tokens) return Promise.resolve(null);
    if (tokens.accessToken !== failed) return Promise.resolve(tokens.accessToken);
    if (!this.inflight) {
      this.inflight = this.refreshAcrossTabs(failed).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async refreshAcrossTabs(failed: string): Promise<string | null> {
    const once = async () => {
      const latest = stored();
      if (latest && latest.accessToken !== failed) {
        this.set(latest); // another tab refreshed while we waited
        return latest.accessToken;
      }
      return latest ? this.refresh(latest.refreshToken) : null;
    };
    if (typeof navigator !== "undefined" && navigator.locks) {
      return navigator.locks.request("holomate.refresh", once);
    }
    return once();
  }

  private async refresh(refreshToken: string): Promise<string | null> {
    let body: { data?: { refreshToken: AuthFieldsFragment } | null; errors?: unknown[] };
    try {
      const response = await fetch(this.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ query: documentText(REFRESH), variables: { refreshToken } }),
      });
      body = await response.json();
    } catch {
      return null; // offline: keep the session, the next request tries again
    }
    const payload = body.data?.refreshToken;
    if (!payload && rotatedElsewhere(body.errors)) {
      // Another tab refreshed with this token a moment ago; its tokens reach our localStorage
      // with a delay. Wait for them rather than end the session.
      const newer = await newerThan(refreshToken);
      if (newer) {
        this.set(newer);
        return newer.accessToken;
      }
    }
    if (!payload) {
      this.signOut(); // spent, reused or revoked: the person has to log in again
      return null;
    }
    this.signIn(payload);
    return payload.accessToken;
  }

  private set(tokens: Tokens | null): void {
    this.tokens = tokens;
    if (typeof window !== "undefined") {
      if (tokens) window.localStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
      else window.localStorage.removeItem(STORAGE_KEY);
    }
    for (const listener of this.listeners) listener(tokens);
  }
}

function rotatedElsewhere(errors: unknown[] | undefined): boolean {
  return (errors ?? []).some(
    (error) =>
      (error as { extensions?: { reason?: string } }).extensions?.reason === "REFRESH_ROTATED",
  );
}

/** Tokens another tab stored after rotating `spent`, polled for up to two seconds. */
async function newerThan(spent: string): Promise<Tokens | null> {
  for (let waited = 0; waited < 2_000; waited += 100) {
    const latest = stored();
    if (latest && latest.refreshToken !== spent) return latest;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

function stored(): Tokens | null {
  try {
    const raw = window.localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

/** True for the server's "your access token expired" error. */
export function isTokenExpired(error: { extensions?: Record<string, unknown> | null }): boolean {
  return (
    error.extensions?.code === "UNAUTHENTICATED" && error.extensions?.reason === "TOKEN_EXPIRED"
  );
}
