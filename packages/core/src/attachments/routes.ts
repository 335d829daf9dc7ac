import { create as contentDisposition, parse as parseContentDisposition } from 'content-disposition';
import { z } from 'zod';
import type { KernelModule } from '../app/module.js';
import { RapportError, ValidationError } from '../errors.js';
import { booleanQuery, idParams, pageOf, pageQuery } from '../http/pagination.js';
import type { RouteBuilder } from '../http/routes.js';
import type { PermissionDefinition } from '../kernel/types.js';
import { declaredMediaType } from './detect.js';
import { ATTACHMENTS_PURGE_PERMISSION, attachmentSchema, type AttachmentService } from './service.js';

export const ATTACHMENT_PERMISSIONS: readonly PermissionDefinition[] = [
  { key: 'attachments:read', description: 'List and download the attachments of records one may see' },
  { key: 'attachments:write', description: 'Attach files to records one may see, and delete them' },
  { key: ATTACHMENTS_PURGE_PERMISSION, description: 'Purge attachments: remove their bytes for good' },
];

const recordQuery = {
  recordType: z.string().min(1).max(100),
  recordId: z.string().min(1).max(200),
};

export function attachmentsModule(attachments: AttachmentService): KernelModule {
  return { name: 'attachments', permissions: ATTACHMENT_PERMISSIONS, routes: (r) => attachmentRoutes(r, attachments) };
}

function attachmentRoutes(r: RouteBuilder, attachments: AttachmentService): void {
  const tags = ['Attachments'];

  r.post('/attachments', {
    summary: 'Attach a file to a record',
    description:
      'The file is the raw request body, streamed to storage (never held in memory); its name is in the `Content-Disposition` request header ' +
      '(`attachment; filename="quote.pdf"`, or `filename*=UTF-8\'\'…` for any other name), its type in `Content-Type` (checked against the bytes: ' +
      'the detected type is what is stored and served, the declared one is kept beside it). The record (`party`, `relationship`, `interaction`, or a ' +
      "plugin's type such as `crm.deal`) must be one the caller may see: 404 otherwise. 413 above `attachments.maxFileBytes`, 429 past the tenant's " +
      'daily quota of uploaded bytes. A party or relationship shows the file on its timeline (an `attachment` interaction).',
    tags,
    permission: 'attachments:write',
    audience: 'any',
    query: z.strictObject(recordQuery),
    requestBody: { contentType: 'application/octet-stream', description: 'The file, as it is (any media type)' },
    problems: [413, 429],
    response: attachmentSchema,
    handler: async (ctx) => {
      const header = ctx.koa.get('content-disposition');
      if (!header) throw new ValidationError("Name the file in the Content-Disposition header: attachment; filename*=UTF-8''quote.pdf", [{ path: 'headers.content-disposition', message: 'required' }]);
      let filename: string | undefined;
      try {
        filename = parseContentDisposition(header).parameters.filename;
      } catch {
        filename = undefined;
      }
      const cleaned = filename === undefined ? '' : safeFilename(filename);
      if (!cleaned) throw new ValidationError('The Content-Disposition header names no usable file name', [{ path: 'headers.content-disposition', message: 'no filename parameter' }]);
      const encoding = (ctx.koa.get('content-encoding') || 'identity').toLowerCase();
      if (encoding !== 'identity') throw new RapportError(415, 'unsupported-media-type', `Content-Encoding "${encoding}" is not supported; send the file as it is`);
      return attachments.upload(ctx, {
        recordType: ctx.query.recordType,
        recordId: ctx.query.recordId,
        filename: cleaned,
        declaredType: declaredMediaType(ctx.koa.get('content-type')),
        body: ctx.koa.req,
      });
    },
  });

  r.get('/attachments', {
    summary: "A record's attachments, newest first",
    tags,
    permission: 'attachments:read',
    audience: 'any',
    query: z.strictObject({ ...recordQuery, ...pageQuery }),
    response: pageOf(attachmentSchema),
    handler: (ctx) => attachments.list(ctx, ctx.query),
  });

  r.get('/attachments/:id', {
    summary: "An attachment's details (name, detected type, size, sha-256, scan status)",
    tags,
    permission: 'attachments:read',
    audience: 'any',
    params: idParams,
    response: attachmentSchema,
    handler: (ctx) => attachments.get(ctx, ctx.params.id),
  });

  r.get('/attachments/:id/content', {
    summary: 'Download an attachment',
    description:
      'Served as its detected type, always as a download (`Content-Disposition: attachment` with an RFC 6266/5987 `filename*`), with ' +
      '`X-Content-Type-Options: nosniff` and a sandboxing CSP. One byte range (`Range: bytes=0-1023`) answers 206; a range past the end 416. ' +
      "409 for a quarantined file; 404 when its record is outside the caller's reach.",
    tags,
    permission: 'attachments:read',
    audience: 'any',
    params: idParams,
    raw: true,
    responseContentType: 'application/octet-stream',
    problems: [409, 416],
    handler: async (ctx) => {
      const koa = ctx.koa;
      const meta = await attachments.get(ctx, ctx.params.id);
      const range = parseRange(koa.get('range'), meta.size);
      if (range === 'unsatisfiable') {
        koa.set('Content-Range', `bytes */${meta.size}`);
        throw new RapportError(416, 'range-not-satisfiable', `The range is outside the file's ${meta.size} bytes`);
      }
      const { attachment, stream } = await attachments.open(ctx, ctx.params.id, range ?? undefined);
      koa.set('Content-Type', attachment.contentType);
      koa.set('Content-Disposition', contentDisposition(attachment.filename, { type: 'attachment' }));
      koa.set('X-Content-Type-Options', 'nosniff');
      koa.set('Content-Security-Policy', "default-src 'none'; sandbox");
      koa.set('Accept-Ranges', 'bytes');
      koa.set('ETag', `"${attachment.sha256}"`);
      koa.set('Cache-Control', 'private, no-store');
      if (range) {
        koa.status = 206;
        koa.set('Content-Range', `bytes ${range.start}-${range.end}/${attachment.size}`);
        koa.length = range.end - range.start + 1;
      } else {
        koa.status = 200;
        koa.length = attachment.size;
      }
      koa.body = stream;
    },
  });

  r.delete('/attachments/:id', {
    summary: 'Delete an attachment',
    description: 'Marks it deleted: no longer listed or downloadable, its bytes kept. `?purge=true` (permission `attachments:purge`) removes the bytes and the row for good.',
    tags,
    permission: 'attachments:write',
    audience: 'any',
    params: idParams,
    query: z.strictObject({ purge: booleanQuery.optional() }),
    status: 204,
    handler: async (ctx) => {
      await attachments.delete(ctx, ctx.params.id, { purge: ctx.query.purge ?? false });
    },
  });
}

/**
 * A stored file name: no control characters (CR/LF can never reach a header), no path, at
 * most 255 characters. The download's header is built by `content-disposition`, which quotes
 * and percent-encodes (RFC 6266 / RFC 5987) whatever remains.
 */
export function safeFilename(name: string): string {
  const cleaned = name
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[/\\]/g, '_')
    .trim()
    .replace(/^\.+/, '');
  return [...cleaned].slice(0, 255).join('');
}

/**
 * One byte range of `Range: bytes=…` (RFC 9110 §14.1.2): `a-b`, `a-` or `-n`. Several ranges
 * or a header that is not a byte range are ignored (the whole file, 200), as the RFC allows;
 * a range that starts past the end is unsatisfiable (416).
 */
export function parseRange(header: string, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}
