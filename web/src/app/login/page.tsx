"use client";

import { useMutation } from "@apollo/client/react";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { useApp } from "@/app/providers";
import { errorText } from "@/lib/errors";
import { LOGIN, REGISTER } from "@/lib/operations";

export default function LoginPage() {
  const { session } = useApp();
  const router = useRouter();
  const [mode, setMode] = useState<"login" | "register">("login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [register, registering] = useMutation(REGISTER);
  const [login, loggingIn] = useMutation(LOGIN);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      if (mode === "register") {
        const { data } = await register({ variables: { email, password, displayName } });
        if (data) session.signIn(data.register);
      } else {
        const { data } = await login({ variables: { email, password } });
        if (data) session.signIn(data.login);
      }
      router.push("/companions");
    } catch (e) {
      setError(errorText(e));
    }
  }

  const busy = registering.loading || loggingIn.loading;
  return (
    <section className="card narrow">
      <h1>{mode === "register" ? "Create your account" : "Log in"}</h1>
      <form onSubmit={submit} className="stack">
        {mode === "register" && (
          <label>
            Your name
            <input
              name="displayName"
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
              required
            />
          </label>
        )}
        <label>
          Email
          <input
            name="email"
            type="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "register" ? "new-password" : "current-password"}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {mode === "register" ? "Sign up" : "Log in"}
        </button>
      </form>
      <p>
        {mode === "register" ? "Have an account? " : "New here? "}
        <button
          type="button"
          className="link"
          onClick={() => setMode(mode === "register" ? "login" : "register")}
        >
          {mode === "register" ? "Log in" : "Create an account"}
        </button>
      </p>
    </section>
  );
}
