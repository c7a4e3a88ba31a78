// Photos are compressed on the phone before they are queued: long side at
// most 2000 px, JPEG quality 0.8 (docs/ARCHITECTURE.md, field-app lessons). compressorjs
// works offline (no worker fetched from a CDN).
import Compressor from 'compressorjs';

export const MAX_SIDE = 2000;

export function compress(file) {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line no-new
    new Compressor(file, {
      maxWidth: MAX_SIDE, maxHeight: MAX_SIDE, quality: 0.8, mimeType: 'image/jpeg', convertSize: 0, checkOrientation: true,
      success: (blob) => resolve(blob),
      error: (err) => reject(err),
    });
  });
}
