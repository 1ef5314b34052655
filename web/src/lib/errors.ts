import { CombinedGraphQLErrors } from "@apollo/client/errors";

/** A message to show a person for any failed operation. */
export function errorText(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) return error.errors.map((e) => e.message).join("; ");
  if (error instanceof Error) return error.message;
  return String(error);
}
