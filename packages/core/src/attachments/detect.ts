/** Bytes `file-type` reads to recognise a format (its "reasonable detection size"). */
export const DETECTION_BYTES = 4100;

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** A declared `Content-Type` reduced to its media type, or null when it says nothing (absent, malformed, `application/octet-stream`). */
export function declaredMediaType(header: string | undefined): string | null {
  if (!header) return null;
  const type = header.split(';')[0].trim().toLowerCase();
  if (!MEDIA_TYPE.test(type) || type === 'application/octet-stream') return null;
  return type;
}

/**
 * What a file is, from its first bytes (`file-type`): the detected type wins over the declared
 * one, which is kept beside it so a spoofed declaration shows (`typeMismatch`). A file whose
 * bytes tell nothing (text, CSV, JSON) keeps its declared type, unless it claims a format
 * `file-type` would have recognised (an "image/png" without PNG's signature): then it is
 * `application/octet-stream`. Never refused: what is stored is served as what it is.
 */
export async function contentTypeOf(head: Buffer, declared: string | null): Promise<{ contentType: string; declaredType: string | null }> {
  // Imported on first use: file-type costs start-up time a system without uploads never needs back.
  const { fileTypeFromBuffer, supportedMimeTypes } = await import('file-type');
  const detected = await fileTypeFromBuffer(head);
  if (detected) return { contentType: detected.mime, declaredType: declared };
  if (declared && supportedMimeTypes.has(declared)) return { contentType: 'application/octet-stream', declaredType: declared };
  return { contentType: declared ?? 'application/octet-stream', declaredType: declared };
}
