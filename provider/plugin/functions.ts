/**
 * The package's functions (invokes), by token, onto the lookups TypeScript
 * programs call directly (resources/lookups.ts).
 */
import { ZillizValidationError } from "../errors";
import { LOOKUPS, LookupName } from "../resources/lookups";
import type { ProviderContext } from "../resources/provider-context";
import { PACKAGE_NAME, tokenOf } from "./tokens";

export const FUNCTIONS = Object.keys(LOOKUPS) as LookupName[];

export async function invokeFunction(token: string, args: Record<string, unknown>, context: ProviderContext): Promise<unknown> {
  const name = FUNCTIONS.find((f) => tokenOf(f) === token);
  if (!name) throw new ZillizValidationError("token", `${token} is not a function of the ${PACKAGE_NAME} package: it has ${FUNCTIONS.join(", ")}`);
  return LOOKUPS[name](context, args);
}
