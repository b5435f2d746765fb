import { encodeNpy, parseNpy } from "../../lib/io/npy.ts";
import { InputError } from "../../lib/errors.ts";
import { assert, assertEquals } from "../shared.ts";

function npyBytes(header: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  let h = header;
  h += " ".repeat((64 - ((pre + h.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(new TextEncoder().encode(h), pre);
  out.set(data, pre + h.length);
  return out;
}

function throwsInput(fn: () => unknown, includes: string): void {
  try {
    fn();
  } catch (e) {
    assert(e instanceof InputError, `expected InputError, got ${e}`);
    assert(e.message.includes(includes), `message '${e.message}' lacks '${includes}'`);
    assert(e.message.startsWith("f.npy: "), `message '${e.message}' does not name the file`);
    return;
  }
  throw new Error("expected an InputError");
}

Deno.test("npy: float32 round trip", () => {
  const m = { rows: 3, cols: 2, data: new Float32Array([1, 2, 3, 4, 5, 6.5]) };
  const back = parseNpy(encodeNpy(m), "f.npy");
  assertEquals([back.rows, back.cols, Array.from(back.data)], [3, 2, [1, 2, 3, 4, 5, 6.5]]);
});

Deno.test("npy: float64 and format versions 2 and 3", () => {
  const f64 = new Uint8Array(new Float64Array([0.25, -1, 3, 4]).buffer);
  for (const major of [1, 2, 3]) {
    const m = parseNpy(
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f64, major),
      "f.npy",
    );
    assertEquals(Array.from(m.data), [0.25, -1, 3, 4], `v${major}`);
  }
});

Deno.test("npy: bad inputs name the file and the problem", () => {
  const four = new Uint8Array(16);
  throwsInput(() => parseNpy(new TextEncoder().encode("hello world, not npy"), "f.npy"), "magic");
  throwsInput(
    () =>
      parseNpy(
        npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", four),
        "f.npy",
      ),
    "dtype '<i4'",
  );
  throwsInput(
    () =>
      parseNpy(
        npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", four),
        "f.npy",
      ),
    "dtype '>f4'",
  );
  throwsInput(
    () =>
      parseNpy(
        npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four),
        "f.npy",
      ),
    "Fortran",
  );
  throwsInput(
    () =>
      parseNpy(
        npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four),
        "f.npy",
      ),
    "2-D",
  );
  throwsInput(
    () =>
      parseNpy(
        npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", four),
        "f.npy",
      ),
    "truncated",
  );
  const v9 = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", four);
  v9[6] = 9;
  throwsInput(() => parseNpy(v9, "f.npy"), "version 9");
});
