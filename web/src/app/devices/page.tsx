"use client";

import { useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { type FormEvent, useState } from "react";

import { RequireAuth } from "@/components/Nav";
import {
  ASSIGN_COMPANION,
  DENY_PAIRING,
  DEVICES,
  DEVICE_STATUS,
  PAIR_DEVICE,
  SET_SPEAKING_DEVICE,
  UNPAIR_DEVICE,
} from "@/lib/account";
import { errorText } from "@/lib/errors";

export default function DevicesPage() {
  return (
    <RequireAuth>
      <Devices />
    </RequireAuth>
  );
}

function Devices() {
  const { data, error, refetch } = useQuery(DEVICES);
  // Each status change carries the device with its id: Apollo's cache updates the list itself.
  useSubscription(DEVICE_STATUS);
  const [userCode, setUserCode] = useState("");
  const [name, setName] = useState("");
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [pair, pairing] = useMutation(PAIR_DEVICE, { refetchQueries: [DEVICES] });
  const [deny] = useMutation(DENY_PAIRING);
  const [unpair] = useMutation(UNPAIR_DEVICE, { refetchQueries: [DEVICES] });
  const [assign] = useMutation(ASSIGN_COMPANION);
  const [setSpeaking] = useMutation(SET_SPEAKING_DEVICE, { refetchQueries: [DEVICES] });

  const run = async (action: () => Promise<unknown>, done?: string) => {
    setMessage(null);
    try {
      await action();
      if (done) setMessage({ error: false, text: done });
    } catch (e) {
      setMessage({ error: true, text: errorText(e) });
    }
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const code = userCode.trim().toUpperCase();
    await run(async () => {
      await pair({ variables: { userCode: code, name: name.trim() || "Hologram" } });
      setUserCode("");
      setName("");
    }, "Paired");
  }

  const companions = data?.companions.nodes ?? [];
  return (
    <section>
      <h1>Devices</h1>
      <div className="card">
        <h2>Pair a hologram</h2>
        <p className="muted">Type the code your device shows.</p>
        <form onSubmit={submit} className="row">
          <input
            name="userCode"
            placeholder="WDJB-MJHT"
            value={userCode}
            onChange={(e) => setUserCode(e.target.value)}
            required
            autoComplete="off"
          />
          <input
            name="deviceName"
            placeholder="Living room"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <button type="submit" disabled={pairing.loading}>
            Pair
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!userCode.trim()}
            onClick={() =>
              run(() => deny({ variables: { userCode: userCode.trim().toUpperCase() } }), "Refused")
            }
          >
            Refuse
          </button>
        </form>
      </div>
      {message && (
        <p className={message.error ? "error" : "ok"} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      {error && <p className="error">{errorText(error)}</p>}
      {data && data.devices.length === 0 && <p className="muted">No devices yet.</p>}
      {data && data.devices.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Device</th>
              <th>Status</th>
              <th>Companion</th>
              <th>Speaks</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.devices.map((d) => (
              <tr key={d.id} data-device={d.name} data-online={d.online ? "true" : "false"}>
                <td>
                  <strong>{d.name}</strong>
                  <div className="muted">
                    {d.model} · {d.serial} {d.firmware && `· ${d.firmware}`}
                  </div>
                </td>
                <td className={d.online ? "online" : "offline"}>
                  {d.online ? "● online" : "○ offline"}
                  {!d.online && d.lastSeenAt && (
                    <div className="muted">last seen {new Date(d.lastSeenAt).toLocaleString()}</div>
                  )}
                </td>
                <td>
                  <select
                    aria-label={`Companion on ${d.name}`}
                    value={d.activeCompanionId ?? ""}
                    onChange={(e) =>
                      e.target.value &&
                      run(() =>
                        assign({ variables: { deviceId: d.id, companionId: e.target.value } }),
                      )
                    }
                  >
                    <option value="">None</option>
                    {companions.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  {d.speaks ? (
                    "yes"
                  ) : (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => run(() => setSpeaking({ variables: { deviceId: d.id } }))}
                    >
                      Speak here
                    </button>
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    onClick={() =>
                      window.confirm(`Unpair ${d.name}?`) &&
                      run(() => unpair({ variables: { id: d.id } }).then(() => refetch()))
                    }
                  >
                    Unpair
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
