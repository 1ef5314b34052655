// The server gives short-lived access tokens here (HOLOMATE_TEST_TOKEN_TTL_S): when the first
// expires, the server closes the conversation's socket (4401); the app refreshes (the refresh
// token is single use), subscribes again from its last cursor, and the next message's reply
// arrives whole. (Breaking that refresh makes this test fail; the HTTP path's refresh-and-retry
// is the one tests/clients/test_urql_token_refresh.py proves for rn_client.mjs.)
import { screen, waitFor } from "@testing-library/react-native";

import { newEmail, send, signUp, storedMessages, talkToNewCompanion } from "../test/steps";

const TTL_S = Number(process.env.HOLOMATE_TEST_TOKEN_TTL_S ?? 0);

test("after the access token expires the app refreshes, resumes, and the next reply streams whole", async () => {
  expect(TTL_S).toBeGreaterThan(0);
  const email = newEmail("refresh");
  const signedUpAt = Date.now();
  await signUp(email);
  await talkToNewCompanion("Mira");
  await new Promise((resolve) =>
    setTimeout(resolve, TTL_S * 1000 + 1000 - (Date.now() - signedUpAt)),
  );

  await send("Are you still there?");
  await waitFor(() => expect(screen.getByTestId("reply-status")).toHaveTextContent(/complete/), {
    timeout: 30_000,
  });
  const [question, reply] = await storedMessages(email);
  expect(question.text).toBe("Are you still there?");
  expect(reply.status).toBe("COMPLETE");
  expect(screen.getByTestId("reply-text")).toHaveTextContent(reply.text, { exact: true });
  expect(screen.getByTestId("stream-status")).toHaveTextContent(/^Live/);
});
