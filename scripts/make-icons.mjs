// Draws the app icon and the tray icons (one per registration state) as PNG files in resources/.
// Run with `node scripts/make-icons.mjs` after changing a colour or the shape; the PNGs are committed.
//
// Shapes are signed distance functions sampled 4×4 per pixel for smooth edges; the PNG is written by hand
// (IHDR, one IDAT of unfiltered RGBA rows, IEND) so nothing beyond Node is needed.
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

const RESOURCES = new URL('../resources/', import.meta.url);

const BRAND = [0x1d, 0x6f, 0x5a];
const WHITE = [0xff, 0xff, 0xff];
const STATE_COLOURS = {
  registered: [0x2e, 0x9e, 0x5b],
  registering: [0xe0, 0xa1, 0x00],
  unregistered: [0x8a, 0x8f, 0x98],
  failed: [0xd6, 0x45, 0x45],
};

// --- shapes, in a unit square: x and y from -1 to 1, y pointing down; negative distance is inside ---

const length = (x, y) => Math.hypot(x, y);

function capsule(px, py, ax, ay, bx, by, radius) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return length(px - ax - t * dx, py - ay - t * dy) - radius;
}

function roundedSquare(px, py, half, radius) {
  const qx = Math.abs(px) - half + radius;
  const qy = Math.abs(py) - half + radius;
  return length(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
}

/** A telephone handset: an arched grip with an ear piece and a mouth piece turned down at its ends. */
function handset(px, py) {
  const x = px;
  const y = py + 0.13;
  // The grip is part of a ring: a circle of radius 0.85 centred below, kept where |x| <= 0.5.
  const ring = Math.abs(length(x, y - 0.72) - 0.85) - 0.17;
  const grip = Math.max(ring, Math.abs(x) - 0.5, y - 0.2);
  const ear = capsule(x, y, -0.55, 0.02, -0.64, 0.34, 0.22);
  const mouth = capsule(x, y, 0.55, 0.02, 0.64, 0.34, 0.22);
  return Math.min(grip, ear, mouth);
}

// --- rasterizing ---

const SUBSAMPLES = 4;

/** Renders layers (back to front) of { inside(x, y) → distance, colour } into RGBA pixels. */
function render(size, layers) {
  const pixels = Buffer.alloc(size * size * 4);
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SUBSAMPLES; sy++) {
        for (let sx = 0; sx < SUBSAMPLES; sx++) {
          const x = ((column + (sx + 0.5) / SUBSAMPLES) / size) * 2 - 1;
          const y = ((row + (sy + 0.5) / SUBSAMPLES) / size) * 2 - 1;
          let colour;
          for (const layer of layers) if (layer.shape(x, y) <= 0) colour = layer.colour;
          if (colour) {
            r += colour[0];
            g += colour[1];
            b += colour[2];
            a += 1;
          }
        }
      }
      const offset = (row * size + column) * 4;
      if (a > 0) {
        pixels[offset] = Math.round(r / a);
        pixels[offset + 1] = Math.round(g / a);
        pixels[offset + 2] = Math.round(b / a);
        pixels[offset + 3] = Math.round((a / (SUBSAMPLES * SUBSAMPLES)) * 255);
      }
    }
  }
  return pixels;
}

// --- PNG ---

function chunk(type, data) {
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

function encodePng(size, pixels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // colour type: RGBA
  // Bytes 10–12 stay 0: deflate compression, adaptive filtering, no interlace.
  const rowLength = size * 4;
  const raw = Buffer.alloc((rowLength + 1) * size);
  for (let row = 0; row < size; row++) {
    raw[row * (rowLength + 1)] = 0; // filter type: none
    pixels.copy(raw, row * (rowLength + 1) + 1, row * rowLength, (row + 1) * rowLength);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function write(name, size, layers) {
  writeFileSync(new URL(name, RESOURCES), encodePng(size, render(size, layers)));
  console.log(`resources/${name} (${size}×${size})`);
}

const scaled = (shape, factor) => (x, y) => shape(x / factor, y / factor) * factor;

write('icon.png', 512, [
  { shape: (x, y) => roundedSquare(x, y, 0.9, 0.22), colour: BRAND },
  { shape: scaled(handset, 0.66), colour: WHITE },
]);

for (const [state, colour] of Object.entries(STATE_COLOURS)) {
  write(`tray-${state}.png`, 32, [
    { shape: (x, y) => length(x, y) - 0.97, colour },
    { shape: scaled(handset, 0.72), colour: WHITE },
  ]);
}
