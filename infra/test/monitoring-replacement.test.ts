import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseStackConfig } from "../../shared/stack-config.js";
import { readStackValues } from "../../shared/stack-file.js";
import { monitoringHostAddress } from "../network.js";
import { named, ofType, useProgram } from "./support/program.js";

const { values } = readStackValues("prod");
const config = parseStackConfig(values);

/** A monitoring instance's rule or config change replaces it: cloud-init runs once per instance. */
describe("replacing a monitoring instance", () => {
  const theRun = useProgram(values);

  it("deletes the old instance and its volume attachment before creating the new ones", () => {
    const instances = ofType(theRun(), "aws:ec2/instance:Instance");
    const attachments = ofType(theRun(), "aws:ec2/volumeAttachment:VolumeAttachment");

    expect(instances).toHaveLength(config.regions.length + 1);
    expect(instances.every((instance) => instance.inputs.userDataReplaceOnChange === true)).toBe(true);
    expect(instances.filter((instance) => !instance.options.deleteBeforeReplace).map(({ name }) => name)).toEqual([]);
    expect(attachments).toHaveLength(instances.length);
    expect(attachments.filter((one) => !one.options.deleteBeforeReplace).map(({ name }) => name)).toEqual([]);
    expect(attachments.every((one) => one.inputs.stopInstanceBeforeDetaching === true)).toBe(true);
  });

  it.each(config.regions)("brings the regional Prometheus of %s back at the same address", (region) => {
    const instance = named(theRun(), "aws:ec2/instance:Instance", `calcburst-${region}-monitoring-prometheus-instance`);
    const address = monitoringHostAddress(config.vpcCidrs[region] ?? "", "regionalPrometheus");

    expect(instance.inputs.privateIp).toBe(address);
    const fn = named(theRun(), "aws:lambda/function:Function", `calcburst-${region}-function`);
    const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    expect(variables.CALCBURST_REMOTE_WRITE_URL).toBe(`http://${address}:9090/api/v1/write`);
    // The function's environment does not come from the instance, so no update follows its replacement.
    expect(fn.options.propertyDependencies.environment ?? []).not.toContain(instance.urn);
  });

  it("leaves the global instance alone when a regional one is replaced", () => {
    const global = named(theRun(), "aws:ec2/instance:Instance", "calcburst-global-monitoring-instance");
    const regional = config.regions.map(
      (region) =>
        named(theRun(), "aws:ec2/instance:Instance", `calcburst-${region}-monitoring-prometheus-instance`).urn,
    );

    expect(global.inputs.privateIp).toBe(
      monitoringHostAddress(config.vpcCidrs[config.monitoringRegion] ?? "", "globalMonitoring"),
    );
    expect(global.options.dependencies.filter((urn) => regional.includes(urn))).toEqual([]);
    const cloudConfig = parse(
      gunzipSync(Buffer.from(String(global.inputs.userDataBase64), "base64")).toString("utf8"),
    ) as { write_files: { path: string; content: string }[] };
    const prometheus = parse(
      cloudConfig.write_files.find((file) => file.path === "/etc/prometheus/prometheus.yml")?.content ?? "",
    ) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const federated = prometheus.scrape_configs.find((job) => job.job_name === "federate")?.static_configs;
    expect(federated?.map((target) => target.targets[0])).toEqual(
      config.regions.map(
        (region) => `${monitoringHostAddress(config.vpcCidrs[region] ?? "", "regionalPrometheus")}:9090`,
      ),
    );
  });
});
