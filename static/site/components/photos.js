// Building an upload's body; the compression policy is static/lib/photo.js.
/** photoForm builds the multipart body of one photo upload. */
export function photoForm(blob, fields = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('photo', blob, 'photo.jpg');
  return form;
}
