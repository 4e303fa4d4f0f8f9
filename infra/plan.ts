import type { ProgramRun, RecordedResource } from "./mock-runtime.js";

/**
 * What `npm run plan` shows of a recorded program run: the resource tree grouped by region,
 * and a Mermaid diagram of the resource graph (nodes are a component's resources of one type;
 * edges are the references one resource's inputs make to another's outputs).
 */

const GLOBAL = "global";

/** `aws:apigatewayv2/route:Route` → `apigatewayv2.Route`; `calcburst:data:GlobalTable` → `GlobalTable`. */
export function shortType(type: string): string {
  const [provider, module = "", kind = ""] = type.split(":");
  if (provider === "calcburst") return kind;
  return `${module.split("/")[0]}.${kind}`;
}

interface Placed {
  resource: RecordedResource;
  component: RecordedResource | undefined;
  region: string;
}

function regionOfComponent(component: RecordedResource | undefined, resources: RecordedResource[]): string | undefined {
  if (component === undefined) return undefined;
  const child = resources.find(
    (resource) =>
      resource.custom && resource.name.startsWith(`${component.name}-`) && typeof resource.inputs.region === "string",
  );
  return child?.inputs.region as string | undefined;
}

/** Each custom resource with the component that owns it (by the `${name}-…` naming) and its region. */
export function placeResources(run: ProgramRun): Placed[] {
  const components = run.resources.filter((resource) => !resource.custom);
  return run.resources
    .filter((resource) => resource.custom)
    .map((resource) => {
      const component = components
        .filter((candidate) => resource.name.startsWith(`${candidate.name}-`))
        .sort((a, b) => b.name.length - a.name.length)[0];
      const own = resource.inputs.region;
      const region =
        typeof own === "string"
          ? own
          : component?.type === "calcburst:service:RegionalService"
            ? (regionOfComponent(component, run.resources) ?? GLOBAL)
            : GLOBAL;
      return { resource, component, region };
    });
}

export function renderTree(run: ProgramRun): string[] {
  const placed = placeResources(run);
  const regions = [...new Set(placed.map((entry) => entry.region))].sort((a, b) =>
    a === GLOBAL ? 1 : b === GLOBAL ? -1 : 0,
  );
  const lines: string[] = [];
  for (const region of regions) {
    const inRegion = placed.filter((entry) => entry.region === region);
    lines.push(`${region === GLOBAL ? "global (Route 53)" : region} — ${inRegion.length} resources`);
    const byComponent = new Map<string, Placed[]>();
    for (const entry of inRegion) {
      const key = entry.component ? `${shortType(entry.component.type)} ${entry.component.name}` : "(stack)";
      byComponent.set(key, [...(byComponent.get(key) ?? []), entry]);
    }
    for (const [component, entries] of [...byComponent].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`  ${component}`);
      const sorted = [...entries].sort((a, b) => a.resource.name.localeCompare(b.resource.name));
      for (const { resource } of sorted) lines.push(`    ${shortType(resource.type).padEnd(34)} ${resource.name}`);
    }
  }
  return lines;
}

const REFERENCE_KEYS = ["arn", "name", "invokeArn", "executionArn", "fqdn", "streamArn"] as const;

function nodeId(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, "_");
}

/** A Mermaid flowchart of the recorded graph, one subgraph per region. Stable for a given run. */
export function renderMermaid(run: ProgramRun): string {
  const placed = placeResources(run);
  const groupOf = (entry: Placed) =>
    `${entry.region}|${entry.component?.name ?? "stack"}|${shortType(entry.resource.type)}`;
  const groups = new Map<string, Placed[]>();
  for (const entry of placed) groups.set(groupOf(entry), [...(groups.get(groupOf(entry)) ?? []), entry]);

  // Which group produced each output value another resource might refer to.
  const producers = new Map<string, string>();
  for (const entry of placed) {
    for (const key of [...REFERENCE_KEYS, "id"]) {
      const value = key === "id" ? entry.resource.id : entry.resource.state[key];
      if (typeof value === "string" && value.length >= 12) producers.set(value, groupOf(entry));
    }
    const target = (entry.resource.state.domainNameConfiguration as { targetDomainName?: string } | undefined)
      ?.targetDomainName;
    if (target !== undefined) producers.set(target, groupOf(entry));
  }
  const edges = new Set<string>();
  for (const entry of placed) {
    const text = JSON.stringify(entry.resource.inputs);
    for (const [value, producer] of producers) {
      if (producer !== groupOf(entry) && text.includes(value))
        edges.add(`${nodeId(producer)} --> ${nodeId(groupOf(entry))}`);
    }
  }

  // A global table's replicas are no resources of their own; draw them where they live.
  const replicaNodes: { region: string; key: string; label: string }[] = [];
  for (const entry of placed) {
    for (const replica of (entry.resource.inputs.replicas ?? []) as { regionName?: string }[]) {
      if (replica.regionName === undefined) continue;
      const key = `${replica.regionName}|${entry.component?.name ?? "stack"}|replica of ${entry.resource.name}`;
      replicaNodes.push({
        region: replica.regionName,
        key,
        label: `dynamodb replica<br/><small>${entry.component?.name ?? ""}</small>`,
      });
      edges.add(`${nodeId(groupOf(entry))} -- replicates --> ${nodeId(key)}`);
    }
  }

  const lines = ["flowchart LR"];
  const regions = [...new Set([...placed.map((entry) => entry.region), ...replicaNodes.map((node) => node.region)])];
  for (const region of regions) {
    lines.push(`  subgraph ${nodeId(`region_${region}`)}["${region}"]`);
    const keys = [...groups.keys()].filter((key) => key.startsWith(`${region}|`)).sort();
    for (const key of keys) {
      const [, component, type] = key.split("|");
      const count = (groups.get(key)?.length ?? 0) > 1 ? ` ×${groups.get(key)?.length}` : "";
      lines.push(`    ${nodeId(key)}["${type}${count}<br/><small>${component}</small>"]`);
    }
    for (const node of replicaNodes.filter((candidate) => candidate.region === region)) {
      lines.push(`    ${nodeId(node.key)}["${node.label}"]`);
    }
    lines.push("  end");
  }
  for (const edge of [...edges].sort()) lines.push(`  ${edge}`);
  return `${lines.join("\n")}\n`;
}

/**
 * docs/RESOURCES.md: the Mermaid graph of every resource, with a line on where it comes from.
 * It lives in docs/ because ~100 boxes are an inventory, not the picture a README opens with.
 */
export function resourcesDocument(mermaid: string, stack: string): string {
  return `# Every AWS resource of the \`${stack}\` stack

Generated by \`npm run plan -- --stack ${stack}\` from the Pulumi program's recorded resource graph
(under mocks: no CLI or credentials needed); \`infra/test/plan.test.ts\` fails when it is stale. Do
not edit by hand. The README has the readable picture; this is the inventory, grouped by region.

\`\`\`mermaid
${mermaid}\`\`\`
`;
}
