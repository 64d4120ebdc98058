import { fileTypeFromBuffer, fileTypeFromFile } from 'file-type';
import { AppError } from '../errors.js';

/**
 * Decides what a file is from its first bytes (magic numbers), never from the URL or the
 * Content-Type header, which the sender controls. The only module that imports file-type.
 */

export const acceptedImageTypes = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tiff: 'image/tiff',
} as const;

export type ImageFormat = keyof typeof acceptedImageTypes;

const byMime = new Map<string, ImageFormat>(
  Object.entries(acceptedImageTypes).map(([format, mime]) => [mime, format as ImageFormat]),
);

export async function sniffImageFormat(bytes: Uint8Array): Promise<{ format: ImageFormat; mime: string }> {
  const detected = await fileTypeFromBuffer(bytes);
  const format = detected ? byMime.get(detected.mime) : undefined;
  if (!detected || !format) {
    const what = detected ? `${detected.mime} content` : 'content that is not a recognised image format';
    throw new AppError(
      'unsupported_media_type',
      `The URL returned ${what}. Accepted image formats: ${Object.keys(acceptedImageTypes).join(', ')}.`,
    );
  }
  return { format, mime: detected.mime };
}

/** Containers the service accepts for video, decided from the file's first bytes. */
export const acceptedVideoTypes = ['video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska', 'video/x-msvideo', 'video/mpeg', 'video/3gpp', 'video/x-m4v'] as const;

export async function sniffVideoFile(path: string): Promise<{ mime: string }> {
  const detected = await fileTypeFromFile(path);
  if (!detected || !(acceptedVideoTypes as readonly string[]).includes(detected.mime)) {
    const what = detected ? `${detected.mime} content` : 'content that is not a recognised video container';
    throw new AppError('unsupported_media_type', `The URL returned ${what}. Accepted video containers: MP4, MOV, WebM, MKV, AVI, MPEG, 3GP.`);
  }
  return { mime: detected.mime };
}
