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
const versionName = z.string().check(z.regex(/^[1-9]\d{0,8}$/, { error: "a version is a number: 1, 2, …" }));

export const aliasSchema = z
  .object({
    /** The version that gets the traffic the additional version does not. */
    version: versionName,
    additionalVersion: z.optional(versionName),
    /** The share of requests, 0 to 1, the additional version serves. */
    weight: z.optional(
      z
        .number({ error: "weight is a number" })
        .check(
          z.gte(0, { error: "weight is a share from 0 to 1" }),
          z.lte(1, { error: "weight is a share from 0 to 1" }),
        ),
    ),
  })
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
  version: versionName,
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
export const publishOrderSchema = z.object({ bundle: z.string().check(z.minLength(1)) });

/** POST /functions/alias: the region's `live` alias moves to this routing. */
export const aliasOrderSchema = z.object({ region: z.string(), alias: aliasSchema });
export type AliasOrder = z.infer<typeof aliasOrderSchema>;
