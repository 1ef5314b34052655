// Files go to the server as GraphQL multipart requests
// (https://github.com/jaydenseric/graphql-multipart-request-spec): an `operations` field with the
// file variable set to null, a `map` from file field to variable path, then the file itself.
// Apollo's HTTP link does not speak it, so these requests are made here, with the same session.
import type { TypedDocumentNode } from "@apollo/client";

import type { CompanionFieldsFragment, MessageFieldsFragment } from "@/gql/graphql";
import { documentText } from "@/lib/documents";
import { GraphQLRequestError, type GraphQLErrorLike } from "@/lib/errors";
import { IMPORT_CHARACTER_CARD, SEND_VOICE_MESSAGE } from "@/lib/operations";
import { type Session, isTokenExpired } from "@/lib/session";

/** Runs `document` with `file` as the variable `fileVariable`; throws GraphQLRequestError. */
export async function uploadFile<Result, Variables extends Record<string, unknown>>(
  graphqlUrl: string,
  session: Session,
  document: TypedDocumentNode<Result, Variables>,
  variables: Omit<Variables, "file" | "audio">,
  fileVariable: keyof Variables & string,
  file: File,
): Promise<Result> {
  const post = async (token: string | null) => {
    const form = new FormData();
    form.append(
      "operations",
      JSON.stringify({
        query: documentText(document),
        variables: { ...variables, [fileVariable]: null },
      }),
    );
    form.append("map", JSON.stringify({ "0": [`variables.${fileVariable}`] }));
    form.append("0", file);
    const response = await fetch(graphqlUrl, {
      method: "POST",
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: form,
    });
    return (await response.json()) as { data?: Result | null; errors?: GraphQLErrorLike[] };
  };

  const token = await session.validToken();
  let body = await post(token);
  if (body.errors?.some(isTokenExpired)) body = await post(await session.renew(token ?? ""));
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  if (!body.data) throw new Error("No answer from the server");
  return body.data;
}

export async function sendVoiceMessage(
  graphqlUrl: string,
  session: Session,
  conversationId: string,
  wav: Blob,
): Promise<MessageFieldsFragment> {
  const file = new File([wav], "voice.wav", { type: "audio/wav" });
  const data = await uploadFile(
    graphqlUrl,
    session,
    SEND_VOICE_MESSAGE,
    { conversationId },
    "audio",
    file,
  );
  return data.sendVoiceMessage;
}

/** A Character Card file (.json, .png or .charx) becomes a new companion. */
export async function importCharacterCard(
  graphqlUrl: string,
  session: Session,
  file: File,
): Promise<CompanionFieldsFragment> {
  const data = await uploadFile(graphqlUrl, session, IMPORT_CHARACTER_CARD, {}, "file", file);
  return data.importCharacterCard;
}
