import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ANY_CREDENTIALS } from '../../harness/moto.js';
import { referenceTreeHash } from './tree-hash-reference.js';

/**
 * moto 5.2.1 has no Glacier multipart upload. This proxy in front of it serves the four multipart calls as the
 * Glacier API reference describes them, checking what a real vault checks (part size and alignment from
 * Content-Range, each part's tree hash, the archive's size and tree hash), and stores the assembled archive in moto
 * with UploadArchive. Every other request goes through to moto, with one correction: moto reports a missing vault as
 * 400 VaultNotFound where Glacier answers 404 ResourceNotFoundException.
 */

export interface GlacierShim {
  endpoint: string;
  /** Multipart uploads completed, to prove the multipart path was taken. */
  completedUploads: number;
  stop(): Promise<void>;
}

interface Upload {
  vault: string;
  partSize: number;
  description: string;
  parts: Map<number, Buffer>;
}

class GlacierRefusal extends Error {}

const MULTIPART = /^\/([^/]+)\/vaults\/([^/]+)\/multipart-uploads(?:\/([^/?]+))?$/;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  if (typeof value !== 'string') throw new GlacierRefusal(`missing header ${name}`);
  return value;
}

export async function startGlacierMultipartShim(motoEndpoint: string): Promise<GlacierShim> {
  const uploads = new Map<string, Upload>();
  const shim = { completedUploads: 0 };

  async function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name, value]) =>
      typeof value === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding', 'expect'].includes(name))) as Record<string, string>;
    const answer = await fetch(`${motoEndpoint}${req.url}`, { method: req.method, headers, body: body.length > 0 ? body : undefined });
    if (answer.headers.get('x-amzn-errortype') === 'VaultNotFound') {
      res.writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 'ResourceNotFoundException', message: (await answer.json() as { message: string }).message, type: 'Client' }));
      return;
    }
    const answerHeaders: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name)) answerHeaders[name] = value;
    });
    res.writeHead(answer.status, answerHeaders).end(Buffer.from(await answer.arrayBuffer()));
  }

  async function complete(uploadId: string, upload: Upload, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const size = Number(header(req, 'x-amz-archive-size'));
    const offsets = [...upload.parts.keys()].sort((a, b) => a - b);
    offsets.forEach((offset, i) => {
      if (offset !== i * upload.partSize) throw new GlacierRefusal(`part at ${offset} is not where part ${i} belongs`);
      if (i < offsets.length - 1 && upload.parts.get(offset)!.length !== upload.partSize) throw new GlacierRefusal(`part ${i} is not ${upload.partSize} bytes`);
    });
    const archive = Buffer.concat(offsets.map((offset) => upload.parts.get(offset)!));
    if (archive.length !== size) throw new GlacierRefusal(`archive is ${archive.length} bytes, not ${size}`);
    const treeHash = header(req, 'x-amz-sha256-tree-hash');
    if (treeHash !== referenceTreeHash(archive)) throw new GlacierRefusal('archive tree hash does not match');
    const stored = await fetch(`${motoEndpoint}/-/vaults/${upload.vault}/archives`, {
      method: 'POST',
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${ANY_CREDENTIALS.accessKeyId}/20250101/us-east-1/glacier/aws4_request, SignedHeaders=host, Signature=0`,
        'x-amz-archive-description': upload.description,
        'x-amz-sha256-tree-hash': treeHash,
      },
      body: archive,
    });
    if (stored.status !== 201) throw new Error(`moto UploadArchive failed: ${stored.status} ${await stored.text()}`);
    const archiveId = stored.headers.get('x-amz-archive-id')!;
    uploads.delete(uploadId);
    shim.completedUploads++;
    res.writeHead(201, {
      location: `/-/vaults/${upload.vault}/archives/${archiveId}`,
      'x-amz-archive-id': archiveId,
      'x-amz-sha256-tree-hash': treeHash,
    }).end();
  }

  async function multipart(match: RegExpExecArray, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const [, , vault = '', uploadId] = match;
    if (uploadId === undefined) {
      if (req.method !== 'POST') throw new GlacierRefusal(`${req.method} of multipart-uploads is not served here`);
      const id = randomUUID();
      uploads.set(id, { vault, partSize: Number(header(req, 'x-amz-part-size')), description: String(req.headers['x-amz-archive-description'] ?? ''), parts: new Map() });
      res.writeHead(201, { 'x-amz-multipart-upload-id': id, location: `/-/vaults/${vault}/multipart-uploads/${id}` }).end();
      return;
    }
    const upload = uploads.get(uploadId);
    if (upload === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'ResourceNotFoundException', message: `no upload ${uploadId}`, type: 'Client' }));
      return;
    }
    if (req.method === 'PUT') {
      const range = /^bytes (\d+)-(\d+)\/\*$/.exec(header(req, 'content-range'));
      if (range === null) throw new GlacierRefusal('Content-Range is not "bytes start-end/*"');
      const start = Number(range[1]);
      if (start % upload.partSize !== 0 || Number(range[2]) - start + 1 !== body.length || body.length > upload.partSize) {
        throw new GlacierRefusal(`Content-Range ${range[0]} does not fit a ${body.length}-byte part of size ${upload.partSize}`);
      }
      if (header(req, 'x-amz-sha256-tree-hash') !== referenceTreeHash(body)) throw new GlacierRefusal(`tree hash of the part at ${start} does not match`);
      upload.parts.set(start, body);
      res.writeHead(204, { 'x-amz-sha256-tree-hash': referenceTreeHash(body) }).end();
    } else if (req.method === 'POST') {
      await complete(uploadId, upload, req, res);
    } else if (req.method === 'DELETE') {
      uploads.delete(uploadId);
      res.writeHead(204).end();
    } else {
      throw new GlacierRefusal(`${req.method} of an upload is not served here`);
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const match = MULTIPART.exec((req.url ?? '').split('?')[0]!);
      try {
        await (match === null ? forward(req, body, res) : multipart(match, req, body, res));
      } catch (err) {
        const refused = err instanceof GlacierRefusal;
        res.writeHead(refused ? 400 : 500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: refused ? 'InvalidParameterValueException' : 'ServiceUnavailableException', message: String((err as Error).message), type: refused ? 'Client' : 'Server' }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(shim, {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}
