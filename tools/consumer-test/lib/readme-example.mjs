// The main example of a package README: the fenced code block right after the marker
// `<!-- consumer-test: main -->` (an HTML comment, invisible on npm and GitHub).
export const MAIN_EXAMPLE_MARKER = '<!-- consumer-test: main -->';

/** `{ lang, code, kind }` of the marked block; kind is 'ts', 'cjs' (uses require) or 'esm'. */
export function mainExample(readme, source) {
  const at = readme.indexOf(MAIN_EXAMPLE_MARKER);
  if (at < 0) throw new Error(`${source}: no main example (mark its code block with ${MAIN_EXAMPLE_MARKER})`);
  const match = /^```(\w+)\n([\s\S]*?)^```$/m.exec(readme.slice(at + MAIN_EXAMPLE_MARKER.length));
  if (!match) throw new Error(`${source}: no fenced code block after ${MAIN_EXAMPLE_MARKER}`);
  const [, lang, code] = match;
  const kind = /^(ts|typescript)$/.test(lang) ? 'ts' : /\brequire\(/.test(code) ? 'cjs' : 'esm';
  if (!/^(ts|typescript|js|javascript|mjs|cjs)$/.test(lang)) throw new Error(`${source}: the main example is \`${lang}\`, not JavaScript or TypeScript`);
  return { lang, code, kind };
}
