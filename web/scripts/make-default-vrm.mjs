// Writes the project's own default character, public/characters/default.vrm: a VRM 1.0 bust
// (glTF binary with the VRMC_vrm extension) made from nothing but the numbers below, so no
// third-party model is downloaded and its licence is the project's.
//
//   node scripts/make-default-vrm.mjs [out.vrm]     (default: public/characters/default.vrm)
//
// The face is a head ellipsoid with flat features lying on it (eyes, highlights, brows, mouth,
// blush); each feature is a fan of points whose outline a few numbers describe, and every
// expression is that outline with other numbers, minus the neutral one: a morph target. The
// targets are bound as VRM 1.0 expressions (aa ih ou ee oh, blink, happy angry sad relaxed
// surprised), the 15 bones VRM 1.0 requires make its humanoid. Deterministic: coordinates are
// rounded to 0.1 mm before they become float32, and the JSON's keys are written in one order,
// so the same script writes the same bytes (tests/clients/test_default_character.py checks it).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const OUT = resolve(
  process.argv[2] ?? new URL("../public/characters/default.vrm", import.meta.url).pathname,
);

/** Morph targets, in order; each is also the VRM 1.0 preset expression that drives it. */
const TARGETS = [
  "aa",
  "ih",
  "ou",
  "ee",
  "oh",
  "blink",
  "happy",
  "angry",
  "sad",
  "relaxed",
  "surprised",
];
const EMOTIONS = new Set(["happy", "angry", "sad", "relaxed", "surprised"]);

// The head, in the head bone's space (metres; the model faces +Z, its left is +X).
const HEAD = { cy: 0.12, rx: 0.1, ry: 0.12, rz: 0.1 };
const RING = 20; // outline points of a face feature

const round = (n) => Math.round(n * 1e4) / 1e4 + 0; // + 0: no negative zero

// ---- shapes ---------------------------------------------------------------------------------

/** A point (x, y) of the face (y from the head's centre) lifted onto the head's front. */
function onFace(x, y, lift) {
  const { cy, rx, ry, rz } = HEAD;
  const inside = Math.max(0.02, 1 - (x / rx) ** 2 - (y / ry) ** 2);
  const z = rz * Math.sqrt(inside);
  const n = normalise([x / rx ** 2, y / ry ** 2, z / rz ** 2]);
  return { p: [x + n[0] * lift, cy + y + n[1] * lift, z + n[2] * lift], n };
}

function normalise([x, y, z]) {
  const l = Math.hypot(x, y, z) || 1;
  return [x / l, y / l, z / l];
}

/** A face feature: centre plus RING outline points from outline(t) -> [x, y], fan-triangulated. */
function feature(outline, lift) {
  const points = [
    outline(null),
    ...Array.from({ length: RING }, (_, i) => outline((2 * Math.PI * i) / RING)),
  ];
  return points.map(([x, y]) => onFace(x, y, lift));
}

function fanIndices(offset) {
  const out = [];
  for (let i = 0; i < RING; i += 1) out.push(offset, offset + 1 + i, offset + 1 + ((i + 1) % RING));
  return out;
}

/** An ellipsoid (optionally only the triangles keep(normal) accepts). */
function ellipsoid([cx, cy, cz], [rx, ry, rz], keep = () => true, segments = [24, 16]) {
  const [su, sv] = segments;
  const positions = [];
  const normals = [];
  for (let v = 0; v <= sv; v += 1) {
    const phi = (Math.PI * v) / sv;
    for (let u = 0; u <= su; u += 1) {
      const theta = (2 * Math.PI * u) / su;
      const d = [Math.sin(phi) * Math.sin(theta), Math.cos(phi), Math.sin(phi) * Math.cos(theta)];
      positions.push([cx + rx * d[0], cy + ry * d[1], cz + rz * d[2]]);
      normals.push(normalise([d[0] / rx, d[1] / ry, d[2] / rz]));
    }
  }
  const indices = [];
  const at = (u, v) => v * (su + 1) + u;
  for (let v = 0; v < sv; v += 1) {
    for (let u = 0; u < su; u += 1) {
      const quad = [at(u, v), at(u, v + 1), at(u + 1, v + 1), at(u + 1, v)];
      const mid = normalise(
        quad.map((i) => normals[i]).reduce((a, b) => a.map((x, k) => x + b[k])),
      );
      if (!keep(mid)) continue;
      indices.push(quad[0], quad[1], quad[2], quad[0], quad[2], quad[3]);
    }
  }
  return { positions, normals, indices };
}

// ---- the face's features, each a function of an expression's numbers ------------------------

const EYE = { x: 0.042, y: 0.0, rx: 0.017, ry: 0.023 };

/** Eye opening: 1 open, 0 shut (the lid comes down to a line near the bottom). */
const EYE_OPEN = {
  blink: -1,
  happy: -0.55,
  relaxed: -0.4,
  angry: -0.25,
  sad: -0.15,
  surprised: 0.25,
};

function eyes(target) {
  const open = Math.max(0.08, 1 + (EYE_OPEN[target] ?? 0)); // shut: a thin line of lashes
  return [1, -1].flatMap((side) =>
    feature((t) => {
      const [x, y] = t === null ? [0, 0] : [Math.cos(t), Math.sin(t)];
      const floor = -EYE.ry * 0.75;
      return [side * EYE.x + x * EYE.rx, EYE.y + floor + (y * EYE.ry - floor) * open];
    }, 0.0015),
  );
}

function highlights(target) {
  const size = Math.max(0, Math.min(1, 1 + (EYE_OPEN[target] ?? 0) * 1.4));
  return [1, -1].flatMap((side) =>
    feature((t) => {
      const [x, y] = t === null ? [0, 0] : [Math.cos(t), Math.sin(t)];
      const r = 0.0055 * size;
      return [side * (EYE.x + 0.005) + x * r, EYE.y + 0.008 * size + y * r];
    }, 0.0025),
  );
}

/** Brows: inner end (towards the nose) and outer end raised by these (metres). */
const BROW = {
  angry: [-0.009, 0.002],
  sad: [0.008, -0.002],
  surprised: [0.011, 0.009],
  happy: [0.004, 0.003],
  relaxed: [-0.002, -0.002],
};

function brows(target) {
  const [inner, outer] = BROW[target] ?? [0, 0];
  return [1, -1].flatMap((side) =>
    feature((t) => {
      const [x, y] = t === null ? [0, 0] : [Math.cos(t), Math.sin(t)];
      const towardsOuter = (side * x + 1) / 2;
      const raise = inner + (outer - inner) * towardsOuter;
      return [side * 0.044 + x * 0.019, 0.05 + y * 0.0032 + raise + 0.002 * (1 - x * x)];
    }, 0.0015),
  );
}

/** Mouth outline: half width, upper and lower lip from the centre, corners raised. */
const MOUTH = {
  base: { w: 0.022, up: 0.0015, down: 0.0015, corner: 0 },
  aa: { w: 0.024, up: 0.006, down: 0.024 },
  ih: { w: 0.028, up: 0.003, down: 0.009 },
  ou: { w: 0.011, up: 0.007, down: 0.011 },
  ee: { w: 0.03, up: 0.004, down: 0.013 },
  oh: { w: 0.016, up: 0.008, down: 0.019 },
  surprised: { w: 0.014, up: 0.005, down: 0.012 },
  happy: { w: 0.027, corner: 0.009, down: 0.004 },
  relaxed: { w: 0.024, corner: 0.005 },
  sad: { w: 0.02, corner: -0.007 },
  angry: { w: 0.019, corner: -0.004 },
};

function mouth(target) {
  const m = { ...MOUTH.base, ...(MOUTH[target] ?? {}) };
  return feature((t) => {
    if (t === null) return [0, -0.062];
    const [x, y] = [Math.cos(t), Math.sin(t)];
    const lip = y > 0 ? m.up * y : m.down * y;
    return [m.w * x, -0.062 + lip + m.corner * Math.abs(x) ** 3];
  }, 0.0015);
}

function blush(target) {
  const size = { happy: 1, relaxed: 0.7 }[target] ?? 0;
  return [1, -1].flatMap((side) =>
    feature((t) => {
      const [x, y] = t === null ? [0, 0] : [Math.cos(t), Math.sin(t)];
      return [side * 0.062 + x * 0.015 * size, -0.03 + y * 0.007 * size];
    }, 0.0008),
  );
}

// ---- glTF ------------------------------------------------------------------------------------

const MATERIALS = [
  ["skin", [1.0, 0.84, 0.74, 1], false],
  ["hair", [0.34, 0.24, 0.48, 1], false],
  ["eyes", [0.16, 0.1, 0.2, 1], true],
  ["highlight", [1, 1, 1, 1], true],
  ["brows", [0.26, 0.18, 0.34, 1], true],
  ["mouth", [0.58, 0.17, 0.22, 1], true],
  ["blush", [1.0, 0.6, 0.62, 1], true],
  ["shirt", [0.32, 0.56, 0.82, 1], false],
];

class Writer {
  constructor() {
    this.chunks = [];
    this.length = 0;
    this.accessors = [];
    this.bufferViews = [];
  }

  view(bytes, target) {
    const pad = (4 - (this.length % 4)) % 4;
    if (pad) this.push(new Uint8Array(pad));
    this.bufferViews.push({
      buffer: 0,
      byteOffset: this.length,
      byteLength: bytes.byteLength,
      target,
    });
    this.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return this.bufferViews.length - 1;
  }

  push(bytes) {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }

  vec3(list) {
    const flat = new Float32Array(list.flatMap((v) => v.map(round)));
    const min = [0, 1, 2].map((k) => Math.min(...list.map((v) => Math.fround(round(v[k])))));
    const max = [0, 1, 2].map((k) => Math.max(...list.map((v) => Math.fround(round(v[k])))));
    const bufferView = this.view(flat, 34962);
    return this.accessor({
      bufferView,
      componentType: 5126,
      count: list.length,
      type: "VEC3",
      min,
      max,
    });
  }

  /** All zeros: an accessor without a bufferView holds zeros (a target that moves nothing). */
  zeros(count) {
    return this.accessor({
      componentType: 5126,
      count,
      type: "VEC3",
      min: [0, 0, 0],
      max: [0, 0, 0],
    });
  }

  indices(list) {
    const bufferView = this.view(new Uint16Array(list), 34963);
    return this.accessor({ bufferView, componentType: 5123, count: list.length, type: "SCALAR" });
  }

  accessor(a) {
    this.accessors.push(a);
    return this.accessors.length - 1;
  }

  binary() {
    const pad = (4 - (this.length % 4)) % 4;
    if (pad) this.push(new Uint8Array(pad));
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

const w = new Writer();
const material = (name) => MATERIALS.findIndex(([n]) => n === name);

/** A primitive of the face: its neutral points and one target per TARGETS (zeros when still). */
function facePrimitive(name, shape, indices) {
  const base = shape("base");
  const zero = w.zeros(base.length);
  const targets = TARGETS.map((t) => {
    const moved = shape(t).map((v, i) => v.p.map((x, k) => round(x) - round(base[i].p[k])));
    return { POSITION: moved.some((d) => d.some((x) => x !== 0)) ? w.vec3(moved) : zero };
  });
  return {
    attributes: { POSITION: w.vec3(base.map((v) => v.p)), NORMAL: w.vec3(base.map((v) => v.n)) },
    indices: w.indices(indices),
    material: material(name),
    targets,
  };
}

function stillPrimitive(name, mesh, withTargets) {
  const zero = withTargets ? w.zeros(mesh.positions.length) : null;
  return {
    attributes: { POSITION: w.vec3(mesh.positions), NORMAL: w.vec3(mesh.normals) },
    indices: w.indices(mesh.indices),
    material: material(name),
    ...(withTargets ? { targets: TARGETS.map(() => ({ POSITION: zero })) } : {}),
  };
}

const pairs = [...fanIndices(0), ...fanIndices(RING + 1)];
const head = ellipsoid([0, HEAD.cy, 0], [HEAD.rx, HEAD.ry, HEAD.rz]);
// Hair: a cap a little larger than the head, a fringe over the forehead, long at the back and
// down the sides.
const hair = ellipsoid(
  [0, HEAD.cy + 0.004, -0.004],
  [HEAD.rx * 1.08, HEAD.ry * 1.06, HEAD.rz * 1.1],
  ([x, y, z]) =>
    y > (z > 0 ? 0.5 - 0.08 * Math.cos(9 * x) : 0.5 + 1.6 * z) || (Math.abs(x) > 0.82 && y > -0.45),
  [32, 18],
);
const faceMesh = {
  name: "Face",
  primitives: [
    stillPrimitive("skin", head, true),
    stillPrimitive("hair", hair, true),
    facePrimitive("eyes", eyes, pairs),
    facePrimitive("highlight", highlights, pairs),
    facePrimitive("brows", brows, pairs),
    facePrimitive("mouth", mouth, fanIndices(0)),
    facePrimitive("blush", blush, pairs),
  ],
  weights: TARGETS.map(() => 0),
  extras: { targetNames: TARGETS },
};

const neck = ellipsoid([0, 0.22, 0], [0.038, 0.1, 0.036], () => true, [16, 6]);
const torso = ellipsoid([0, 0.15, 0], [0.17, 0.12, 0.1], ([, y]) => y < 0.95, [24, 10]);
const bodyMesh = {
  name: "Body",
  primitives: [stillPrimitive("skin", neck, false), stillPrimitive("shirt", torso, false)],
};

// Bones: [name, parent, translation from the parent]. The 15 VRM 1.0 requires, chest and neck.
const BONES = [
  ["hips", null, [0, 0.9, 0]],
  ["spine", "hips", [0, 0.1, 0]],
  ["chest", "spine", [0, 0.15, 0]],
  ["neck", "chest", [0, 0.2, 0]],
  ["head", "neck", [0, 0.1, 0]],
  ["leftUpperArm", "chest", [0.18, 0.18, 0]],
  ["leftLowerArm", "leftUpperArm", [0.26, 0, 0]],
  ["leftHand", "leftLowerArm", [0.24, 0, 0]],
  ["rightUpperArm", "chest", [-0.18, 0.18, 0]],
  ["rightLowerArm", "rightUpperArm", [-0.26, 0, 0]],
  ["rightHand", "rightLowerArm", [-0.24, 0, 0]],
  ["leftUpperLeg", "hips", [0.09, -0.05, 0]],
  ["leftLowerLeg", "leftUpperLeg", [0, -0.4, 0]],
  ["leftFoot", "leftLowerLeg", [0, -0.4, 0]],
  ["rightUpperLeg", "hips", [-0.09, -0.05, 0]],
  ["rightLowerLeg", "rightUpperLeg", [0, -0.4, 0]],
  ["rightFoot", "rightLowerLeg", [0, -0.4, 0]],
];
const nodes = BONES.map(([name, , translation]) => ({ name, translation }));
const boneIndex = (name) => BONES.findIndex(([n]) => n === name);
BONES.forEach(([name, parent]) => {
  if (parent === null) return;
  const p = nodes[boneIndex(parent)];
  p.children = [...(p.children ?? []), boneIndex(name)];
});
nodes.push({ name: "Face", mesh: 0 }, { name: "Body", mesh: 1 });
const FACE_NODE = nodes.length - 2;
nodes[boneIndex("head")].children = [FACE_NODE];
nodes[boneIndex("chest")].children.push(FACE_NODE + 1);

const expression = (name) => ({
  isBinary: false,
  morphTargetBinds: [{ node: FACE_NODE, index: TARGETS.indexOf(name), weight: 1 }],
  // A smile or a frown narrows the eyes itself: blinking on top of it would shut them twice.
  // Nothing here overrides the mouth: the web app mixes speech and emotion itself.
  overrideBlink: EMOTIONS.has(name) ? "blend" : "none",
  overrideLookAt: "none",
  overrideMouth: "none",
});

const gltf = {
  asset: { version: "2.0", generator: "holomate make-default-vrm.mjs" },
  extensionsUsed: ["KHR_materials_unlit", "VRMC_vrm"],
  extensions: {
    VRMC_vrm: {
      specVersion: "1.0",
      meta: {
        name: "Holo-Mate default",
        version: "1",
        authors: ["Holo-Mate"],
        copyrightInformation: "Generated by Holo-Mate's web/scripts/make-default-vrm.mjs",
        licenseUrl: "https://vrm.dev/licenses/1.0/",
        avatarPermission: "everyone",
        allowExcessivelyViolentUsage: false,
        allowExcessivelySexualUsage: false,
        commercialUsage: "corporation",
        allowPoliticalOrReligiousUsage: true,
        allowAntisocialOrHateUsage: false,
        creditNotation: "unnecessary",
        allowRedistribution: true,
        modification: "allowModificationRedistribution",
      },
      humanoid: {
        humanBones: Object.fromEntries(BONES.map(([name], i) => [name, { node: i }])),
      },
      expressions: { preset: Object.fromEntries(TARGETS.map((t) => [t, expression(t)])) },
    },
  },
  scene: 0,
  scenes: [{ name: "Scene", nodes: [0] }],
  nodes,
  meshes: [faceMesh, bodyMesh],
  materials: MATERIALS.map(([name, color, unlit]) => ({
    name,
    pbrMetallicRoughness: { baseColorFactor: color, metallicFactor: 0, roughnessFactor: 0.85 },
    ...(unlit ? { doubleSided: true, extensions: { KHR_materials_unlit: {} } } : {}),
  })),
  accessors: w.accessors,
  bufferViews: w.bufferViews,
  buffers: [{ byteLength: 0 }],
};

const bin = w.binary();
gltf.buffers[0].byteLength = bin.byteLength;
let json = new TextEncoder().encode(JSON.stringify(gltf));
json = Uint8Array.from([...json, ...new Array((4 - (json.byteLength % 4)) % 4).fill(0x20)]);
const total = 12 + 8 + json.byteLength + 8 + bin.byteLength;
const glb = new Uint8Array(total);
const dv = new DataView(glb.buffer);
dv.setUint32(0, 0x46546c67, true); // "glTF"
dv.setUint32(4, 2, true);
dv.setUint32(8, total, true);
dv.setUint32(12, json.byteLength, true);
dv.setUint32(16, 0x4e4f534a, true); // "JSON"
glb.set(json, 20);
dv.setUint32(20 + json.byteLength, bin.byteLength, true);
dv.setUint32(24 + json.byteLength, 0x004e4942, true); // "BIN"
glb.set(bin, 28 + json.byteLength);

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, glb);
console.log(`${OUT}: ${glb.byteLength} bytes`);
