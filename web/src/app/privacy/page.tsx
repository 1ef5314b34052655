"use client";

import { useApolloClient, useMutation } from "@apollo/client/react";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useState } from "react";

import { useApp } from "@/app/providers";
import { RequireAuth } from "@/components/Nav";
import type { DataExportStatus } from "@/gql/graphql";
import { DATA_EXPORT, DELETE_MY_ACCOUNT, EXPORT_MY_DATA } from "@/lib/account";
import { errorText } from "@/lib/errors";

interface Export {
  id: string;
  status: DataExportStatus;
  url?: string | null;
}

export default function PrivacyPage() {
  return (
    <RequireAuth>
      <Privacy />
    </RequireAuth>
  );
}

function Privacy() {
  const client = useApolloClient();
  const router = useRouter();
  const { session } = useApp();
  const [exportMyData] = useMutation(EXPORT_MY_DATA);
  const [deleteMyAccount, deleting] = useMutation(DELETE_MY_ACCOUNT);
  const [archive, setArchive] = useState<Export | null>(null);
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);

  // Poll the export until it is ready (or failed).
  useEffect(() => {
    if (!archive || archive.status === "READY" || archive.status === "FAILED") return;
    const timer = setTimeout(async () => {
      try {
        const { data } = await client.query({
          query: DATA_EXPORT,
          variables: { id: archive.id },
          fetchPolicy: "network-only",
        });
        if (data) setArchive(data.dataExport);
      } catch (e) {
        setError(errorText(e));
      }
    }, 1000);
    return () => clearTimeout(timer);
  }, [archive, client]);

  async function startExport() {
    setError(null);
    try {
      const { data } = await exportMyData();
      if (data) setArchive(data.exportMyData);
    } catch (e) {
      setError(errorText(e));
    }
  }

  async function erase(event: FormEvent) {
    event.preventDefault();
    if (!window.confirm("Delete your account and everything in it? This cannot be undone.")) return;
    setError(null);
    try {
      await deleteMyAccount({ variables: { password } });
      session.signOut();
      router.replace("/login");
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <section>
      <h1>Privacy</h1>
      <div className="card">
        <h2>Download your data</h2>
        <p className="muted">
          An archive of your account, companions, conversations and recordings.
        </p>
        <button
          type="button"
          onClick={startExport}
          disabled={archive !== null && archive.status !== "READY" && archive.status !== "FAILED"}
        >
          Export my data
        </button>
        {archive && (
          <p data-export-status={archive.status}>
            {archive.status === "READY" && archive.url ? (
              <a href={archive.url}>Download the archive</a>
            ) : archive.status === "FAILED" ? (
              <span className="error">The export failed; try again.</span>
            ) : (
              <span className="muted">Preparing your archive…</span>
            )}
          </p>
        )}
      </div>
      <div className="card">
        <h2>Delete your account</h2>
        <form onSubmit={erase} className="row">
          <input
            name="password"
            type="password"
            placeholder="Your password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete="current-password"
          />
          <button type="submit" className="danger" disabled={deleting.loading}>
            Delete my account
          </button>
        </form>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
