// Pairing a hologram by the code it shows, and seeing it go online and offline live. The
// device is played by the test: it asks the server for codes, polls for its token and opens
// its own socket, as a hologram's firmware does (unity_client/ in its own tests).
import { fireEvent, screen, waitFor } from "@testing-library/react-native";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

import { withoutEmptyQuery } from "../src/lib/documents";
import { SERVER, graphql, newEmail, signUp } from "../test/steps";
import { otherClient } from "../test/wire";

test("a person pairs a hologram by its code and sees it come online and go offline", async () => {
  await signUp(newEmail("devices"));
  fireEvent.press(screen.getByText("Devices"));
  await screen.findByText("No devices paired yet.");

  const { requestDevicePairing: pairing } = await graphql<{
    requestDevicePairing: { deviceCode: string; userCode: string };
  }>("requestPairing");
  fireEvent.changeText(screen.getByLabelText("Pairing code"), pairing.userCode.toLowerCase());
  fireEvent.changeText(screen.getByLabelText("Device name"), "Living room");
  fireEvent.press(screen.getByText("Pair"));
  await waitFor(() =>
    expect(screen.getByTestId("device-Living room")).toHaveTextContent(/HM-1 · offline/),
  );

  const { pollDevicePairing: poll } = await graphql<{
    pollDevicePairing: { status: string; deviceToken: string };
  }>("pollPairing", { c: pairing.deviceCode });
  expect(poll.status).toBe("APPROVED");
  const device = createClient({
    url: SERVER.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${poll.deviceToken}` },
    lazy: false,
    retryAttempts: 0,
    jsonMessageReplacer: withoutEmptyQuery,
  });
  const stop = device.subscribe(
    { query: "", ...otherClient("hologramEvents") },
    {
      next: () => {},
      error: () => {},
      complete: () => {},
    },
  );
  try {
    await waitFor(
      () => expect(screen.getByTestId("device-Living room")).toHaveTextContent(/online/),
      { timeout: 15_000 },
    );
  } finally {
    stop();
    await device.dispose();
  }
  await waitFor(
    () => expect(screen.getByTestId("device-Living room")).toHaveTextContent(/offline/),
    { timeout: 15_000 },
  );
});
