"use client";

import { useMutation } from "@apollo/client/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type ReactNode, useEffect } from "react";

import { useApp, useTokens } from "@/app/providers";
import { LOGOUT } from "@/lib/operations";

export function Nav() {
  const tokens = useTokens();
  const { session } = useApp();
  const router = useRouter();
  const [logout] = useMutation(LOGOUT);

  async function signOut() {
    const refreshToken = session.current?.refreshToken;
    if (refreshToken) await logout({ variables: { refreshToken } }).catch(() => undefined);
    session.signOut();
    router.push("/login");
  }

  return (
    <nav>
      <Link href="/" className="brand">
        Holo-Mate
      </Link>
      {tokens ? (
        <>
          <Link href="/companions">Companions</Link>
          <Link href="/devices">Devices</Link>
          <Link href="/billing">Plan</Link>
          <Link href="/privacy">Privacy</Link>
          <span className="spacer" />
          <span className="muted" data-testid="signed-in-as">
            {tokens.user.displayName}
          </span>
          <button type="button" onClick={signOut}>
            Log out
          </button>
        </>
      ) : (
        <>
          <span className="spacer" />
          <Link href="/login">Log in</Link>
        </>
      )}
    </nav>
  );
}

/** Sends anonymous visitors to the login page; renders children for signed-in people. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const tokens = useTokens();
  const router = useRouter();
  useEffect(() => {
    if (!tokens) router.replace("/login");
  }, [tokens, router]);
  if (!tokens) return <p className="muted">Redirecting to log in…</p>;
  return <>{children}</>;
}
