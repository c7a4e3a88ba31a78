// Photos are compressed on the phone before upload (docs/ARCHITECTURE.md: ODK and
// FixMyStreet users' lesson): at most 2048 px on the long side, JPEG 0.6.
import Compressor from 'compressorjs';

export const MAX_SIDE = 2048;

/** compress resolves a JPEG Blob no larger than MAX_SIDE on either side. */
export function compress(file) {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line no-new
    new Compressor(file, {
      quality: 0.6, maxWidth: MAX_SIDE, maxHeight: MAX_SIDE, mimeType: 'image/jpeg', convertSize: 0,
      success: resolve,
      error: reject,
    });
  });
}

/** photoForm builds the multipart body of one photo upload. */
export function photoForm(blob, fields = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('photo', blob, 'photo.jpg');
  return form;
}
