// The one photo policy of the front ends: a photo is shrunk on the phone
// before it is queued or sent — long side at most 2048 px, JPEG quality
// 0.8, turned upright from its EXIF orientation. A resident's photo and a
// cadre's 办结 photo are evidence for the same case and the money spent on
// it, so both keep the detail an inspector needs (a meter reading, a crack)
// while staying around 0.5–1 MB on a phone's data. compressorjs works
// offline (no worker fetched from elsewhere), so the cadre app can compress
// in a courtyard without signal. The server still checks every upload
// (internal/media.Limits).
import Compressor from 'compressorjs';

export const MAX_SIDE = 2048;
export const QUALITY = 0.8;

/** compress resolves a JPEG Blob no larger than MAX_SIDE on either side. */
export function compress(file) {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line no-new
    new Compressor(file, {
      maxWidth: MAX_SIDE, maxHeight: MAX_SIDE, quality: QUALITY, mimeType: 'image/jpeg', convertSize: 0, checkOrientation: true,
      success: resolve,
      error: reject,
    });
  });
}
