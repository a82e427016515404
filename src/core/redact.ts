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
  return out;
}
