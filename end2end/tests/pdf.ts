import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A PDF's text as poppler's `pdftotext` reads it (an independent tool: PDFs
 * Postkasse writes keep their text in compressed, subset-font streams, so
 * the bytes alone do not show it). `page` limits it to one page.
 */
export async function pdfText(pdf: string | Buffer, page?: number): Promise<string> {
  const pages = page === undefined ? [] : ['-f', String(page), '-l', String(page)];
  if (typeof pdf === 'string') {
    const { stdout } = await promisify(execFile)('pdftotext', [...pages, pdf, '-']);
    return stdout;
  }
  const directory = await mkdtemp(path.join(os.tmpdir(), 'postkasse-pdf-'));
  try {
    const file = path.join(directory, 'document.pdf');
    await writeFile(file, pdf);
    const { stdout } = await promisify(execFile)('pdftotext', [...pages, file, '-']);
    return stdout;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
