/**
 * Characters that change what a person sees without being seen themselves: C0 and C1 control
 * characters (terminal escape sequences among them), line and paragraph separators that YAML and
 * kustomize treat differently (U+0085, U+2028, U+2029), zero-width characters and the
 * bidirectional controls that reorder text on screen ("Trojan Source"). One definition serves
 * both ends: input fleet refuses to write, and text from a repo it escapes before printing.
 */
const INVISIBLE_CLASS = String.raw`\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\ufff9-\ufffb`;

/** Any invisible or control character except tab and newline, which callers judge themselves. */
export const INVISIBLE = new RegExp(`[${INVISIBLE_CLASS}]`, "u");
const INVISIBLE_ALL = new RegExp(`[${INVISIBLE_CLASS}\\t\\n]`, "gu");

/** The code point as a person can read it and search for: U+200B. */
export const codePoint = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/**
 * Text read from a repository or a tool, made safe to print on one line: every invisible or
 * control character (tab and newline included) becomes a visible escape such as \x1b or \u202e,
 * so it can neither drive the terminal nor hide what the line says.
 */
export function printable(text: string): string {
  return text.replace(INVISIBLE_ALL, (ch) => {
    if (ch === "\n") return "\\n";
    if (ch === "\t") return "\\t";
    const cp = ch.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
  });
}
