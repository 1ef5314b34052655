"use client";

import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";

import { RequireAuth } from "@/components/Nav";
import { BILLING, OPEN_BILLING_PORTAL, START_CHECKOUT } from "@/lib/account";
import { errorText } from "@/lib/errors";

const PLANS = [
  { id: "plus", name: "Plus" },
  { id: "pro", name: "Pro" },
];

export default function BillingPage() {
  return (
    <RequireAuth>
      <Billing />
    </RequireAuth>
  );
}

function Billing() {
  const { data, error } = useQuery(BILLING, { fetchPolicy: "network-only" });
  const [startCheckout] = useMutation(START_CHECKOUT);
  const [openPortal] = useMutation(OPEN_BILLING_PORTAL);
  const [actionError, setActionError] = useState<string | null>(null);

  async function go(action: () => Promise<string | undefined>) {
    setActionError(null);
    try {
      const url = await action();
      if (url) window.location.assign(url); // the provider's hosted page, then back here
    } catch (e) {
      setActionError(errorText(e));
    }
  }

  const billing = data?.billing;
  return (
    <section>
      <h1>Your plan</h1>
      {error && <p className="error">{errorText(error)}</p>}
      {billing && (
        <div className="card" data-plan={billing.plan}>
          <h2>
            {billing.plan} <span className="muted">({billing.status})</span>
          </h2>
          {billing.currentPeriodEnd && (
            <p>Renews {new Date(billing.currentPeriodEnd).toLocaleDateString()}</p>
          )}
          {billing.graceUntil && (
            <p className="error">
              Payment failed: your plan continues until{" "}
              {new Date(billing.graceUntil).toLocaleDateString()}.
            </p>
          )}
          <table>
            <thead>
              <tr>
                <th />
                <th>Used</th>
                <th>Limit</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>Companions</td>
                <td>{billing.usage.companions}</td>
                <td>{billing.limits.companions}</td>
              </tr>
              <tr>
                <td>Messages today</td>
                <td>{billing.usage.messagesToday}</td>
                <td>{billing.limits.messagesPerDay}</td>
              </tr>
              <tr>
                <td>Voice minutes this month</td>
                <td>{billing.usage.voiceMinutesThisMonth.toFixed(1)}</td>
                <td>{billing.limits.voiceMinutesPerMonth}</td>
              </tr>
              <tr>
                <td>Devices</td>
                <td>{billing.usage.devices}</td>
                <td>{billing.limits.devices}</td>
              </tr>
            </tbody>
          </table>
          <div className="row" style={{ marginTop: "1rem" }}>
            {billing.plan === "free" ? (
              PLANS.map((plan) => (
                <button
                  key={plan.id}
                  type="button"
                  onClick={() =>
                    go(
                      async () =>
                        (await startCheckout({ variables: { plan: plan.id } })).data?.startCheckout
                          .url,
                    )
                  }
                >
                  Upgrade to {plan.name}
                </button>
              ))
            ) : (
              <button
                type="button"
                onClick={() => go(async () => (await openPortal()).data?.openBillingPortal.url)}
              >
                Manage or cancel
              </button>
            )}
          </div>
        </div>
      )}
      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
    </section>
  );
}
