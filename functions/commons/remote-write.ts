/**
 * The Prometheus remote-write 1.0 wire format: a protobuf `WriteRequest`, snappy-compressed.
 * Written by hand because the message has four small types and the function must stay small;
 * protobufjs and a snappy library would add more to the bundle than all of this.
 * https://prometheus.io/docs/specs/remote_write_spec/
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; }
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }
 */

export interface RemoteWriteSample {
  /** `undefined` writes Prometheus's staleness marker: the series ended here. */
  value: number | undefined;
  timestampMs: number;
}

export interface RemoteWriteSeries {
  /** Label pairs including `__name__`; the encoder sorts them by name, as the spec requires. */
  labels: Record<string, string>;
  samples: RemoteWriteSample[];
}

/** The NaN bit pattern Prometheus reads as "stale" (value.StaleNaN). */
const STALE_NAN_HIGH = 0x7ff00000;
const STALE_NAN_LOW = 0x00000002;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;

/** A growable byte buffer with the few protobuf primitives the message needs. */
class ProtobufWriter {
  private bytes = new Uint8Array(1024);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  /** Unsigned varint; timestamps exceed 2^32, so this divides instead of shifting. */
  varint(value: number): void {
    let remaining = value;
    while (remaining >= 0x80) {
      this.byte((remaining % 0x80) | 0x80);
      remaining = Math.floor(remaining / 0x80);
    }
    this.byte(remaining);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  double(field: number, value: number | undefined): void {
    this.tag(field, WIRE_FIXED64);
    this.reserve(8);
    if (value === undefined) {
      this.view.setUint32(this.length, STALE_NAN_LOW, true);
      this.view.setUint32(this.length + 4, STALE_NAN_HIGH, true);
    } else {
      this.view.setFloat64(this.length, value, true);
    }
    this.length += 8;
  }

  raw(chunk: Uint8Array): void {
    this.reserve(chunk.length);
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** A length-delimited field whose body `write` produces into a nested writer. */
  message(field: number, write: (inner: ProtobufWriter) => void): void {
    const inner = new ProtobufWriter();
    write(inner);
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(inner.length);
    this.raw(inner.finish());
  }

  string(field: number, value: string): void {
    const encoded = textEncoder.encode(value);
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(encoded.length);
    this.raw(encoded);
  }

  finish(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

const textEncoder = new TextEncoder();

export function encodeWriteRequest(series: readonly RemoteWriteSeries[]): Uint8Array {
  const request = new ProtobufWriter();
  for (const one of series) {
    request.message(1, (timeSeries) => {
      for (const name of Object.keys(one.labels).sort()) {
        timeSeries.message(1, (label) => {
          label.string(1, name);
          label.string(2, one.labels[name] ?? "");
        });
      }
      for (const sample of one.samples) {
        timeSeries.message(2, (encoded) => {
          encoded.double(1, sample.value);
          if (sample.timestampMs !== 0) {
            encoded.tag(2, WIRE_VARINT);
            encoded.varint(sample.timestampMs);
          }
        });
      }
    });
  }
  return request.finish();
}

/** Snappy's largest literal run that a 2-byte length tag can carry. */
const SNAPPY_LITERAL_CHUNK = 65_536;

/**
 * Snappy block format made of literals only: valid snappy that every decoder reads, with no
 * compression. A flush is a few KB on a private network, so saving CPU in the function beats
 * saving bytes.
 */
export function snappyLiteralBlock(input: Uint8Array): Uint8Array {
  const output = new ProtobufWriter();
  output.varint(input.length);
  for (let offset = 0; offset < input.length; offset += SNAPPY_LITERAL_CHUNK) {
    const chunk = input.subarray(offset, offset + SNAPPY_LITERAL_CHUNK);
    const lengthMinusOne = chunk.length - 1;
    if (lengthMinusOne < 60) {
      output.byte(lengthMinusOne << 2);
    } else if (lengthMinusOne < 0x100) {
      output.byte(60 << 2);
      output.byte(lengthMinusOne);
    } else {
      output.byte(61 << 2);
      output.byte(lengthMinusOne & 0xff);
      output.byte(lengthMinusOne >> 8);
    }
    output.raw(chunk);
  }
  return output.finish();
}

export const REMOTE_WRITE_HEADERS = {
  "content-type": "application/x-protobuf",
  "content-encoding": "snappy",
  "x-prometheus-remote-write-version": "0.1.0",
} as const;
