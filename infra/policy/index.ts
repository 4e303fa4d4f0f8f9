/**
 * The policy pack: `pulumi preview --policy-pack infra/policy` (needs the Pulumi CLI). The
 * policies themselves are in policies.ts, where the tests call them in-process.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("calcburst-guardrails", { policies });
