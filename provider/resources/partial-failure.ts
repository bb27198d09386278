/**
 * A step that failed after the service started something (a job, an
 * upload) must still record it, or the next `up` would start it again. The
 * SDK turns an error carrying `id` and `properties` into a partial failure
 * the engine keeps in the state.
 */

/** Where the SDK keeps the serialized provider among a resource's properties. */
export const PROVIDER_KEY = "__provider";

/**
 * `err` with the id and outputs to record. `__provider` must be among the
 * properties or later calls could not load the provider; it is taken from
 * the step's inputs.
 */
export function partialFailure(err: Error, id: string, outs: object, inputs: object): Error {
  const providerText = (inputs as Record<string, unknown>)[PROVIDER_KEY];
  return Object.assign(err, { id, properties: { ...outs, [PROVIDER_KEY]: providerText }, reasons: [err.message] });
}
