"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

import { useTokens } from "@/app/providers";

export default function Home() {
  const tokens = useTokens();
  const router = useRouter();
  useEffect(() => {
    router.replace(tokens ? "/companions" : "/login");
  }, [tokens, router]);
  return <p className="muted">Loading…</p>;
}
