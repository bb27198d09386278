/**
 * The provider object that `@pulumi/pulumi` serializes into the state.
 *
 * The SDK captures a dynamic provider as source text and runs it later in a
 * separate process. Everything this shim's methods refer to is captured: so
 * they refer to nothing but `kind` and `require`, and reach the real
 * implementation by package name on every call (the module cache makes that
 * cheap). The text is a few hundred bytes, holds no credential (config is
 * read in `configure`), and is the same for every resource of a kind; the
 * SDK's dynamic-provider server keeps one deserialized provider per distinct
 * text for the life of the process and configures it once.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ProviderKind } from "./runtime";

export function serializableProvider(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  // The module name is a literal so that the serialized text captures no
  // binding; it resolves from the program's node_modules. The instance with
  // its clients lives in the runtime module: anything this closure captured
  // would be serialized into the state as a value.
  const load = (): Required<pulumi.dynamic.ResourceProvider> =>
    require("pulumi-zilliz-stages/runtime").providerFor(kind);
  return {
    configure: (req) => load().configure(req),
    check: (olds, news) => load().check(olds, news),
    diff: (id, olds, news) => load().diff(id, olds, news),
    create: (inputs) => load().create(inputs),
    read: (id, props) => load().read(id, props),
    update: (id, olds, news) => load().update(id, olds, news),
    delete: (id, props) => load().delete(id, props),
  };
}
