/** Removes secrets from any text before it is printed, logged or stored. */

/** Replaces every occurrence of each secret, and the password part of any URL, with `****`. */
export function redact(text: string, secrets: ReadonlyArray<string>): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)([^@\s]*)@/g, '$1****@');
  out = out.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1****');
  out = out.replace(/(PASSWORD\s+)'(?:[^']|'')*'/g, "$1'****'");
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length < 3) continue;
    out = out.split(secret).join('****');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('****');
  }
  return redactFragments(out, secrets);
}

/** How long a piece of a secret must be to be taken for one (shorter runs occur by chance). */
const FRAGMENT = 6;

/**
 * Hides pieces of a secret too: an error that quotes a mangled connection string (a password split at
 * a quote or a backslash) shows part of it. Every run of text made of FRAGMENT-character windows that
 * occur in some secret of at least 8 characters is masked.
 */
function redactFragments(text: string, secrets: ReadonlyArray<string>): string {
  const windows = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    for (let i = 0; i + FRAGMENT <= secret.length; i++) windows.add(secret.slice(i, i + FRAGMENT));
  }
  if (!windows.size || text.length < FRAGMENT) return text;
  const masked = new Uint8Array(text.length);
  let any = false;
  for (let i = 0; i + FRAGMENT <= text.length; i++) {
    if (windows.has(text.slice(i, i + FRAGMENT))) {
      masked.fill(1, i, i + FRAGMENT);
      any = true;
    }
  }
  if (!any) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (!masked[i]) out += text[i];
    else if (i === 0 || !masked[i - 1]) out += '****';
  }
  return out;
}
