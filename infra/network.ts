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

/** Where the monitoring instances of a VPC live; the regional Prometheus admits the global one's. */
export function monitoringSubnetCidr(vpcCidr: string): string {
  return subnetCidr(vpcCidr, SUBNETS.monitoring);
}
