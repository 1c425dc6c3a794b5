// Rewrites an 8-bit RGB(A) PNG (as Chromium writes screenshots) as a 256-colour indexed PNG, with no
// dependency beyond node:zlib. The palette is the 256 most frequent colours; any other colour maps to
// the nearest of them. A dashboard screenshot is flat UI colours plus anti-aliased edges, so it stays
// readable at about a third of the size. Usage: node scripts/png-palette.mjs FILE.png [OUT.png]
import { readFile, writeFile } from 'node:fs/promises';
import { deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

function chunks(png) {
  const out = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    out.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

/** Pixels as 0xRRGGBB numbers. */
function decode(png) {
  const all = chunks(png);
  const header = all.find((c) => c.type === 'IHDR').data;
  const [width, height] = [header.readUInt32BE(0), header.readUInt32BE(4)];
  const [depth, colorType, interlace] = [header[8], header[9], header[12]];
  if (depth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0)
    throw new Error('only 8-bit RGB/RGBA non-interlaced PNGs');
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(all.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const stride = width * bpp;
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? rows[dst + x - bpp] : 0;
      const b = y > 0 ? rows[dst + x - stride] : 0;
      const c = x >= bpp && y > 0 ? rows[dst + x - stride - bpp] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      rows[dst + x] = (raw[src + x] + predictor) & 255;
    }
  }
  const pixels = new Uint32Array(width * height);
  for (let i = 0; i < pixels.length; i++)
    pixels[i] = (rows[i * bpp] << 16) | (rows[i * bpp + 1] << 8) | rows[i * bpp + 2];
  return { width, height, pixels };
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export async function paletteOf(file, out = file) {
  const { width, height, pixels } = decode(await readFile(file));
  const counts = new Map();
  for (const p of pixels) counts.set(p, (counts.get(p) ?? 0) + 1);
  const palette = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 256)
    .map(([c]) => c);
  const index = new Map();
  const nearest = (c) => {
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (let i = 0; i < palette.length; i++) {
      const q = palette[i];
      const dr = (c >> 16) - (q >> 16);
      const dg = ((c >> 8) & 255) - ((q >> 8) & 255);
      const db = (c & 255) - (q & 255);
      const d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
      if (d < bestD) [best, bestD] = [i, d];
    }
    return best;
  };
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const c = pixels[y * width + x];
      let i = index.get(c);
      if (i === undefined) {
        i = nearest(c);
        index.set(c, i);
      }
      raw[y * (width + 1) + 1 + x] = i;
    }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 3; // indexed colour
  const plte = Buffer.alloc(palette.length * 3);
  for (const [i, c] of palette.entries()) plte.set([c >> 16, (c >> 8) & 255, c & 255], i * 3);
  await writeFile(
    out,
    Buffer.concat([
      SIGNATURE,
      chunk('IHDR', header),
      chunk('PLTE', plte),
      chunk('IDAT', deflateSync(raw, { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, out] = process.argv.slice(2);
  if (!file) throw new Error('usage: node scripts/png-palette.mjs FILE.png [OUT.png]');
  await paletteOf(file, out);
}
