// Reads the member names and contents of a .tar.gz (ustar) without a dependency.
import { gunzipSync } from 'node:zlib';

export function readTarGz(buffer) {
  const tar = gunzipSync(buffer);
  const files = new Map();
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    off += 512;
    if (type === '0') files.set(name, tar.subarray(off, off + size).toString('utf8'));
    off += Math.ceil(size / 512) * 512;
  }
  return files;
}
