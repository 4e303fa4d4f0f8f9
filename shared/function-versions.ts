import * as z from "zod/mini";

/**
 * Published versions of the function and the `live` alias in front of them, as the local cloud
 * holds them per region (local/release/versions.ts) and its control endpoint takes orders about
 * them. The alias has Lambda's shape: one version, plus at most one more with a weight
 * (AliasRoutingConfiguration.AdditionalVersionWeights).
 */

/** Every answer the region's API gateway gives after the alias picked a version names it. */
export const VERSION_HEADER = "x-calcburst-version";

/** Lambda numbers versions 1, 2, …; the report and the alias carry them as strings. */
const versionName = (field: string) => {
  const error = `${field} is a version number, as a string: "1", "2", …`;
  return z.string({ error }).check(z.regex(/^[1-9]\d{0,8}$/, { error }));
};

export const aliasSchema = z
  .object(
    {
      /** The version that gets the traffic the additional version does not. */
      version: versionName("version"),
      additionalVersion: z.optional(versionName("additionalVersion")),
      /** The share of requests, 0 to 1, the additional version serves. */
      weight: z.optional(
        z
          .number({ error: "weight is a number" })
          .check(
            z.gte(0, { error: "weight is a share from 0 to 1" }),
            z.lte(1, { error: "weight is a share from 0 to 1" }),
          ),
      ),
    },
    { error: 'the alias is an object: {"version": "2"}, or {"version": "2", "additionalVersion": "3", "weight": 0.1}' },
  )
  .check(
    z.refine((alias) => (alias.additionalVersion === undefined) === (alias.weight === undefined), {
      error: "additionalVersion and weight come together: the version the weight sends traffic to, and its share",
    }),
    z.refine((alias) => alias.additionalVersion !== alias.version, {
      error: "additionalVersion must differ from version",
    }),
  );
export type LiveAlias = z.infer<typeof aliasSchema>;

export const publishedVersionSchema = z.object({
  version: versionName("version"),
  /** sha256 of the bundle: publishing the same code again returns this version, as Lambda does. */
  sha256: z.string(),
  bytes: z.int(),
  publishedAt: z.string(),
});
export type PublishedVersion = z.infer<typeof publishedVersionSchema>;

/** One region's function: what it has published and what `live` serves. */
export const regionFunctionSchema = z.object({
  versions: z.array(publishedVersionSchema),
  alias: aliasSchema,
});
export type RegionFunction = z.infer<typeof regionFunctionSchema>;

/** POST /functions/publish: the bundle (an absolute path on this machine) becomes a version in every region. */
export const publishOrderSchema = z.object(
  {
    bundle: z
      .string({ error: "bundle is required: the absolute path of a built handler bundle" })
      .check(z.minLength(1, { error: "bundle is required: the absolute path of a built handler bundle" })),
  },
  { error: 'a publish order is a JSON object: {"bundle": "/abs/path/handler.js"}' },
);

/** POST /functions/alias: the region's `live` alias moves to this routing. */
export const aliasOrderSchema = z.object(
  {
    region: z.string({ error: "region is required: one of the stack's regions" }),
    alias: aliasSchema,
  },
  { error: 'an alias order is a JSON object: {"region": "us-east-1", "alias": {"version": "2"}}' },
);
export type AliasOrder = z.infer<typeof aliasOrderSchema>;
