import { CombinedGraphQLErrors } from "@apollo/client/errors";

export interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown> | null;
}

/** The GraphQL errors of a request made outside Apollo (multipart uploads). */
export class GraphQLRequestError extends Error {
  constructor(readonly errors: GraphQLErrorLike[]) {
    super(errors.map((e) => e.message).join("; "));
    this.name = "GraphQLRequestError";
  }
}

function graphQLErrors(error: unknown): readonly GraphQLErrorLike[] {
  if (CombinedGraphQLErrors.is(error)) return error.errors;
  if (error instanceof GraphQLRequestError) return error.errors;
  return [];
}

/** A message to show a person for any failed operation. */
export function errorText(error: unknown): string {
  const errors = graphQLErrors(error);
  if (errors.length) return errors.map((e) => e.message).join("; ");
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The stable `extensions.code` and `extensions.field` of the first error, when there is one. */
export function errorCode(error: unknown): { code: string | null; field: string | null } {
  const first = graphQLErrors(error)[0];
  const code = first?.extensions?.code;
  const field = first?.extensions?.field;
  return {
    code: typeof code === "string" ? code : null,
    field: typeof field === "string" ? field : null,
  };
}
