// Saving files from the page: a temporary <a download> (works in Electron and in browsers; nothing
// is uploaded). Components call these; stores only produce the content.

export function downloadUrl(url: string, fileName: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function downloadText(text: string, fileName: string, mimeType: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mimeType }));
  try {
    downloadUrl(url, fileName);
  } finally {
    // Revoked after the click has been handled; the download keeps its own copy.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/** Reads a file the user picked in an <input type=file>, as text. */
export function readFileText(file: File): Promise<string> {
  return file.text();
}
