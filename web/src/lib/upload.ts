// sendVoiceMessage as a GraphQL multipart request
// (https://github.com/jaydenseric/graphql-multipart-request-spec): an `operations` field with the
// file variable set to null, a `map` from file field to variable path, then the file itself.
import { print } from "graphql";

import type { MessageFieldsFragment } from "@/gql/graphql";
import { SEND_VOICE_MESSAGE } from "@/lib/operations";
import { type Session, isTokenExpired } from "@/lib/session";

interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

export async function sendVoiceMessage(
  graphqlUrl: string,
  session: Session,
  conversationId: string,
  wav: Blob,
): Promise<MessageFieldsFragment> {
  const post = async (token: string | null) => {
    const form = new FormData();
    form.append(
      "operations",
      JSON.stringify({ query: print(SEND_VOICE_MESSAGE), variables: { conversationId, audio: null } }),
    );
    form.append("map", JSON.stringify({ "0": ["variables.audio"] }));
    form.append("0", new File([wav], "voice.wav", { type: "audio/wav" }));
    const response = await fetch(graphqlUrl, {
      method: "POST",
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: form,
    });
    return (await response.json()) as {
      data?: { sendVoiceMessage: MessageFieldsFragment } | null;
      errors?: GraphQLErrorLike[];
    };
  };

  const token = await session.validToken();
  let body = await post(token);
  if (body.errors?.some(isTokenExpired)) body = await post(await session.renew(token ?? ""));
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  if (!body.data) throw new Error("No answer from the server");
  return body.data.sendVoiceMessage;
}
