import { parseIpv4Block } from "../shared/stack-config.js";

/**
 * How each region's VPC block is cut: sixteen equal subnets, of which the first two hold the
 * function (one per availability zone) and the third the monitoring instances.
 */
const SUBNET_BITS = 4;
export const SUBNETS = { functionA: 0, functionB: 1, monitoring: 2 } as const;

function formatBlock(network: number, prefix: number): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join(".")}/${prefix}`;
}

/** The `index`-th of the sixteen subnets of `vpcCidr`. */
export function subnetCidr(vpcCidr: string, index: number): string {
  const block = parseIpv4Block(vpcCidr);
  if (block === undefined) throw new Error(`${vpcCidr} is not an IPv4 CIDR block`);
  const prefix = block.prefix + SUBNET_BITS;
  if (index < 0 || index >= 2 ** SUBNET_BITS) throw new Error(`subnet ${index} of ${vpcCidr} does not exist`);
  return formatBlock(block.network + index * 2 ** (32 - prefix), prefix);
}

/**
 * The fixed addresses of the monitoring instances, as host numbers in the monitoring subnet (AWS
 * reserves the first four). Fixed, so a replaced instance comes back where the function
 * remote-writes and the global Prometheus federates, and replacing one changes nothing else.
 */
export const MONITORING_HOSTS = { regionalPrometheus: 10, globalMonitoring: 11 } as const;

/** The `host`-th address of an IPv4 block. */
export function hostAddress(cidr: string, host: number): string {
  const block = parseIpv4Block(cidr);
  if (block === undefined) throw new Error(`${cidr} is not an IPv4 CIDR block`);
  if (host < 0 || host >= 2 ** (32 - block.prefix)) throw new Error(`host ${host} is outside ${cidr}`);
  return formatBlock(block.network + host, 32).replace(/\/32$/, "");
}

/** Where the monitoring instances of a VPC live; the regional Prometheus admits the global one's. */
export function monitoringSubnetCidr(vpcCidr: string): string {
  return subnetCidr(vpcCidr, SUBNETS.monitoring);
}

/** A monitoring instance's fixed address in the monitoring subnet of `vpcCidr`. */
export function monitoringHostAddress(vpcCidr: string, host: keyof typeof MONITORING_HOSTS): string {
  return hostAddress(monitoringSubnetCidr(vpcCidr), MONITORING_HOSTS[host]);
}
