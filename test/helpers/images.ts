import sharp from 'sharp';

/**
 * Test pictures generated on the fly: a smooth, detailed pattern determined by a seed (different
 * seeds give unrelated pictures), and the derived copies a platform would produce.
 */

function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

export async function patternImage(seed: number, options: { width?: number; height?: number; format?: 'jpeg' | 'png' } = {}): Promise<Buffer> {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const random = seededRandom(seed);
  // A few blobs of colour on a gradient: enough structure for a stable, distinctive hash.
  const blobs = Array.from({ length: 12 }, () => ({
    x: random() * width,
    y: random() * height,
    radius: (0.05 + random() * 0.2) * Math.min(width, height),
    colour: [random() * 255, random() * 255, random() * 255],
  }));
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = (x / width) * 80;
      let g = (y / height) * 80;
      let b = 40;
      for (const blob of blobs) {
        const d = Math.hypot(x - blob.x, y - blob.y);
        if (d < blob.radius) [r, g, b] = blob.colour as [number, number, number];
      }
      const offset = (y * width + x) * 3;
      pixels[offset] = r;
      pixels[offset + 1] = g;
      pixels[offset + 2] = b;
    }
  }
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  return options.format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 90 }).toBuffer();
}

/** What a platform does to an upload: scale it down and recompress it. */
export async function resizedRecompressed(image: Buffer, scale = 0.7): Promise<Buffer> {
  const { width = 0 } = await sharp(image).metadata();
  return sharp(image).resize(Math.round(width * scale)).jpeg({ quality: 70 }).toBuffer();
}

export async function flatImage(colour: { r: number; g: number; b: number }, size = 256): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: colour } }).png().toBuffer();
}
