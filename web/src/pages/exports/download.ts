import { api } from '../../api.ts';
import type { DownloadLink } from '../../types.ts';

/**
 * The one-time download: a fresh link for the requester's ready export, then a POST on it (GET
 * only shows a page, so mail scanners cannot use links up). The zip is saved through a blob
 * link; the server destroys the file after this one response, and any later try answers 410.
 */
export async function downloadOnce(exportId: string): Promise<string> {
  const link = await api.post<DownloadLink>(`/api/exports/${exportId}/link`);
  const response = await fetch(`/exports/download/${encodeURIComponent(link.token)}`, { method: 'POST', credentials: 'omit', cache: 'no-store' });
  if (!response.ok) {
    const text = await response.text();
    let detail = `The server answered ${response.status}.`;
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
    } catch {
      /* an HTML page */
    }
    throw new Error(response.status === 410 ? `This export was already downloaded or has expired: ${detail}` : detail);
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `export-${exportId}.zip`;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
