// Artillery processor: what each virtual user sends. Plain CommonJS, because artillery loads
// it with require(). Every write carries an idempotency key and a client location; a tenth of
// the users send a request that must be refused with a 4xx.
"use strict";
const { randomUUID } = require("node:crypto");

const OPERATIONS = [
  { operation: "add", operands: () => [random(), random(), random()] },
  { operation: "multiply", operands: () => [random(), random()] },
  { operation: "divide", operands: () => [random(), randomNonZero()] },
  { operation: "mean", operands: () => Array.from({ length: 8 }, random) },
  { operation: "stddev", operands: () => Array.from({ length: 12 }, random) },
  { operation: "sqrt", operands: () => [Math.abs(random())] },
];

/** Bad requests and the problem each must come back as (always a 4xx, never written). */
const BAD_REQUESTS = [
  { operation: "teleport", operands: [1, 2] },
  { operation: "add", operands: [1, "one"] },
  { operation: "divide", operands: [1, 0] },
  { operation: "sqrt", operands: [1, 2] },
  { operation: "add", operands: [] },
];

function random() {
  return (Math.random() * 2000 - 1000).toFixed(3);
}

function randomNonZero() {
  return (Math.random() * 999 + 1).toFixed(3);
}

/**
 * "us:3,eu:1" → a location drawn with those weights. The scenario sets `locations`; the local
 * router routes by it, and on AWS it is only a label (Route 53 routes by where the test runs).
 */
function pickLocation(weights) {
  const entries = String(weights || "us:1,eu:1")
    .split(",")
    .map((pair) => pair.split(":"))
    .map(([name, weight]) => [name.trim(), Number(weight) || 1]);
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let draw = Math.random() * total;
  for (const [name, weight] of entries) {
    draw -= weight;
    if (draw <= 0) return name;
  }
  return entries[entries.length - 1][0];
}

/** A virtual user is one client: one location, one resolver cache (x-client-id). */
function client(request, context) {
  if (context.vars.clientLocation === undefined) {
    context.vars.clientLocation = pickLocation(context.vars.locations);
    context.vars.clientId = `load-${randomUUID()}`;
  }
  request.headers = {
    ...request.headers,
    "x-client-location": context.vars.clientLocation,
    "x-client-id": context.vars.clientId,
  };
}

function calculation(request, context, events, next) {
  client(request, context);
  const { operation, operands } = OPERATIONS[Math.floor(Math.random() * OPERATIONS.length)];
  request.json = { operation, operands: operands() };
  request.headers["idempotency-key"] = randomUUID();
  events.emit("counter", "calcburst.writes", 1);
  return next();
}

function badCalculation(request, context, events, next) {
  client(request, context);
  request.json = BAD_REQUESTS[Math.floor(Math.random() * BAD_REQUESTS.length)];
  request.headers["idempotency-key"] = randomUUID();
  events.emit("counter", "calcburst.bad_requests", 1);
  return next();
}

function readBack(request, context, _events, next) {
  client(request, context);
  return next();
}

module.exports = { calculation, badCalculation, readBack };
